"""A GET never writes: every GET route of the app, called with real ids by an admin
(and the visitor routes by a visitor), leaves every table exactly as it was."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from starlette.routing import Route

from server.config import load_settings
from server.models import metadata
from server.web.app import create_app
from tests.harness import Stack
from tests.helpers import hello, raw_visitor
from tests.proactive.helpers import Admin

pytestmark = pytest.mark.anyio

# Routes a GET cannot take as listed: the files of the widget build and attachments,
# which read files and rows but need names the test has no use for.
SKIPPED = {"/widget/v/{version}/{name}", "/api/v1/attachments/{id}/{name}"}


def _snapshot(stack: Stack) -> str:
    def read(conn: Any) -> dict[str, list[Any]]:
        return {
            table.name: sorted(
                json.dumps(dict(r), default=str, sort_keys=True)
                for r in conn.execute(select(table)).mappings()
            )
            for table in metadata.sorted_tables
        }

    return json.dumps(stack.db.write_sync(read), sort_keys=True)


def _get_routes(stack: Stack) -> list[str]:
    return [
        r.path
        for r in create_app(load_settings(stack.env)).routes
        if isinstance(r, Route) and "GET" in (r.methods or ()) and r.path not in SKIPPED
    ]


async def test_no_get_route_changes_the_database(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    welcome = await hello(sock, site, page={"url": "https://shop.example/", "title": "Home"})
    await sock.send({"type": "message.send", "client_id": "m1", "text": "Hello"})
    conversation_id = (await sock.expect("ack"))["conversation_id"]
    await sock.close()
    admin = await Admin.login(stack)
    try:
        made = await admin.create(site)
        answer = (
            await admin.http.post(f"/api/v1/sites/{site.key}/bot-answers", json={"name": "Help"})
        ).json()
        upload = await admin.http.post(f"/api/v1/sites/{site.key}/imports", content=b"Name\r\nAna\r\n")
        assert upload.status_code == 201, upload.text
        export = (await admin.http.post(f"/api/v1/sites/{site.key}/contact-exports", json={})).json()[
            "export"
        ]
        while export["status"] != "done":  # the job writes; it must be over before the snapshot
            await asyncio.sleep(0.05)
            export = (await admin.http.get(f"/api/v1/contact-exports/{export['id']}")).json()["export"]
        ids = {
            "/api/v1/contact-exports/": export["id"],
            "/api/v1/imports/": upload.json()["import"]["id"],
            "/api/v1/conversations/": conversation_id,
            "/api/v1/visitors/": welcome["visitor"]["id"],
            "/api/v1/contacts/": welcome["visitor"]["id"],
            "/contacts/": welcome["visitor"]["id"],
            "/api/v1/proactive/": made["id"],
            "/admin/proactive/": made["id"],
            "/api/v1/bot-answers/": answer["id"],
            "/api/v1/visitor/conversations/": conversation_id,
        }
        visitor = {"Authorization": f"Bearer {welcome['token']}", "Origin": "https://shop.example"}
        before = _snapshot(stack)
        answered = {}
        for path in _get_routes(stack):
            url = path.replace("{key}", site.key)
            for prefix, value in ids.items():
                if url.startswith(prefix):
                    url = url.replace("{id}", value)
            assert "{" not in url, f"no id for {path}"
            if url.startswith("/api/v1/visitor/"):
                response = await admin.http.get(url, params={"site": site.key}, headers=visitor)
            else:
                response = await admin.http.get(url, params={"site": site.key})
            answered[path] = response.status_code
        assert _snapshot(stack) == before, answered
        # Each was really answered, not refused before it could read anything.
        refused = {p: s for p, s in answered.items() if s >= 400 and p not in ("/api/v1/widget/config",)}
        assert refused == {}, refused
    finally:
        await admin.close()


async def test_the_check_sees_a_write(stack: Stack) -> None:
    """The snapshot notices a change (here a POST), so the test above can fail."""
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        before = _snapshot(stack)
        await admin.create(site)
        assert _snapshot(stack) != before
    finally:
        await admin.close()
