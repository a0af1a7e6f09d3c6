"""Exports of the contact list through the real server: the filtered list as CSV, made
by a background job with its progress, formula cells neutralised, custom fields as
columns, pages walked without a row lost or repeated, and admins only."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import time
from typing import Any

import httpx
import pytest

from server.sites.models import Site
from tests.contacts.test_book import add, desk
from tests.contacts.test_imports import csv_bytes, run, upload
from tests.harness import Stack

pytestmark = pytest.mark.anyio


async def export(
    http: httpx.AsyncClient, site: Site, **filters: str
) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """The export's rows (headers first) and every state the test saw while it ran."""
    started = await http.post(f"/api/v1/sites/{site.key}/contact-exports", json=filters)
    assert started.status_code == 202, started.text
    state = started.json()["export"]
    seen = [state]
    deadline = time.monotonic() + 60
    while state["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.05)
        state = (await http.get(f"/api/v1/contact-exports/{state['id']}")).json()["export"]
        seen.append(state)
    assert state["status"] == "done", state
    got = await http.get(state["url"])
    assert got.headers["content-type"].startswith("text/csv")
    text = got.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read it as UTF-8
    return list(csv.reader(io.StringIO(text[1:]))), seen


async def test_the_filtered_list_exports_with_formulas_neutralised(stack: Stack) -> None:
    site = stack.create_site(contacts={"default_country": "PT"})
    async with desk(stack, "admin") as http:
        made = await http.post(
            f"/api/v1/sites/{site.key}/contact-fields", json={"key": "plan", "label": "Plan", "type": "text"}
        )
        assert made.status_code == 201
        await add(http, site, name='=HYPERLINK("http://evil.example","x")', email="eve@example.com",
                  phone="912 345 678", tags=["lead"], attributes={"plan": "@SUM(A1)"})  # fmt: skip
        await add(
            http, site, name="Bruno", email="bruno@example.com", tags=["lead"], attributes={"plan": "-1"}
        )
        await add(http, site, name="Not a lead", email="other@example.com")
        rows, _ = await export(http, site, tag="lead", sort="name", dir="asc")
    headers, *body = rows
    assert headers[:4] == ["Id", "Name", "Email", "Phone"] and headers[-1] == "Plan"
    assert [r[1] for r in body] == ['\'=HYPERLINK("http://evil.example","x")', "Bruno"]
    assert body[0][3] == "'+351912345678"  # a leading + would be read as a formula too
    assert [r[-1] for r in body] == ["'@SUM(A1)", "'-1"]


async def test_a_long_list_exports_every_contact_once_with_progress(stack: Stack) -> None:
    site = stack.create_site()
    many = [["Name", "Email"], *[[f"Person {i:04}", f"p{i}@example.com"] for i in range(1200)]]
    async with desk(stack, "admin") as http:
        started = await upload(http, site, csv_bytes(many))
        await run(http, started["import"]["id"], mapping={"0": "name", "1": "email"}, mode="add", dry=False)
        rows, seen = await export(http, site)
    ids = [r[0] for r in rows[1:]]
    assert len(ids) == 1200 and len(set(ids)) == 1200
    assert seen[-1]["rows_done"] == seen[-1]["rows_total"] == 1200
    assert all(a["rows_done"] <= b["rows_done"] for a, b in itertools.pairwise(seen))


async def test_a_filter_the_list_refuses_is_refused_before_any_job(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack, "admin") as http:
        await http.post(
            f"/api/v1/sites/{site.key}/contact-fields",
            json={"key": "seats", "label": "Seats", "type": "number"},
        )
        refused = await http.post(
            f"/api/v1/sites/{site.key}/contact-exports", json={"field": "seats", "value": "many"}
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_field_value")
        odd = await http.post(f"/api/v1/sites/{site.key}/contact-exports", json={"tag": ["a"]})
        assert (odd.status_code, odd.json()["field"]) == (422, "tag")


async def test_only_admins_export(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack, "admin") as http:
        started = await http.post(f"/api/v1/sites/{site.key}/contact-exports", json={})
        export_id = started.json()["export"]["id"]
    async with desk(stack) as http:
        refused = await http.post(f"/api/v1/sites/{site.key}/contact-exports", json={})
        assert (refused.status_code, refused.json()["code"]) == (403, "admins_only")
        peek = await http.get(f"/api/v1/contact-exports/{export_id}/contacts.csv")
        assert (peek.status_code, peek.json()["code"]) == (403, "admins_only")
