"""Serving the widget over HTTP: compression, caching, the config endpoint and the settings API."""

from __future__ import annotations

import asyncio
import gzip
import json
import re

import brotli
import httpx
import pytest

from parley_client import AgentClient
from tests.harness import Stack
from tests.helpers import sign_in

pytestmark = pytest.mark.anyio


async def _raw(http: httpx.AsyncClient, path: str, encoding: str) -> tuple[httpx.Headers, bytes]:
    """A response's headers and its body as sent, not decoded."""
    async with http.stream("GET", path, headers={"Accept-Encoding": encoding}) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.headers, body


async def test_the_loader_is_small_compressed_and_revalidated(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        plain = await http.get("/widget.js", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.headers["content-type"] == "application/javascript; charset=utf-8"
        assert "content-encoding" not in plain.headers
        assert "max-age=300" in plain.headers["cache-control"]
        assert plain.headers["vary"] == "Accept-Encoding"
        assert plain.headers["x-content-type-options"] == "nosniff"
        assert "/*" not in plain.text and "\n  " not in plain.text  # minified

        headers, gz = await _raw(http, "/widget.js", "gzip")
        assert headers["content-encoding"] == "gzip"
        assert gzip.decompress(gz) == plain.content
        assert len(gz) <= 2048

        headers, br = await _raw(http, "/widget.js", "gzip, br")
        assert headers["content-encoding"] == "br"
        assert brotli.decompress(br) == plain.content
        assert len(br) < len(gz)

        again = await http.get("/widget.js", headers={"If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


async def test_chunks_have_versioned_addresses_cached_for_a_year(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        loader = (await http.get("/widget.js", headers={"Accept-Encoding": "identity"})).text
        paths = re.findall(r"/widget/v/[0-9a-f]{12}/(?:core|panel)\.js", loader)
        assert len(paths) == 2
        for path in paths:
            chunk = await http.get(path, headers={"Accept-Encoding": "br"})
            assert chunk.status_code == 200
            assert chunk.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert chunk.headers["content-encoding"] == "br"
        stale = await http.get("/widget/v/000000000000/core.js")
        assert stale.status_code == 200 and stale.headers["cache-control"] == "public, max-age=60"
        missing = await http.get("/widget/v/000000000000/nope.js")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_the_config_answers_only_the_sites_own_pages(stack: Stack) -> None:
    site = stack.create_site(domains=["shop.example", "*.shop.example"], widget={"color": "#112233"})
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        ok = await http.get(
            f"/api/v1/widget/config?site={site.key}", headers={"Origin": "https://www.shop.example"}
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://www.shop.example"
        body = ok.json()
        assert body["color"] == "#112233" and body["name"] == "Test site"
        assert "require_identity" not in body and "identity_secret" not in ok.text

        evil = await http.get(
            f"/api/v1/widget/config?site={site.key}", headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403 and evil.json()["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in evil.headers

        unknown = await http.get(
            "/api/v1/widget/config?site=nope", headers={"Origin": "https://shop.example"}
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "site_unknown"


@pytest.mark.parametrize(
    ("color", "on", "text", "ring"),
    [
        ("#1d4ed8", "#ffffff", "#1d4ed8", "#1d4ed8"),  # dark: white on it, itself as text and ring
        ("#2563eb", "#ffffff", "#2563eb", "#2563eb"),  # 5.2:1 with white
        ("#3b82f6", "#111827", "#111827", "#3b82f6"),  # 3.7:1: too light for text, enough for a ring
        ("#fde047", "#111827", "#111827", "#111827"),  # yellow: near-black everywhere
    ],
)
async def test_the_config_says_what_to_draw_on_the_sites_colour(
    stack: Stack, color: str, on: str, text: str, ring: str
) -> None:
    site = stack.create_site(widget={"color": color})
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        body = (await http.get(f"/api/v1/widget/config?site={site.key}")).json()
    assert (body["on"], body["text"], body["ring"]) == (on, text, ring)


async def test_only_admins_change_widget_settings_and_bad_values_are_named(stack: Stack) -> None:
    site = stack.create_site()
    url = f"/api/v1/sites/{site.key}/widget"
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        assert (await http.patch(url, json={"color": "#000000"})).status_code == 401
        email, password = stack.create_agent(role="agent")
        await sign_in(http, email, password)
        refused = await http.patch(url, json={"color": "#000000"})
        assert refused.status_code == 403 and refused.json()["code"] == "section_forbidden"
        assert (await http.get(url)).json()["widget"]["color"] == "#2563eb"  # agents may read

        email, password = stack.create_agent(role="admin")
        await sign_in(http, email, password)
        for bad, field in [
            ({"color": "red"}, "color"),
            ({"position": "top"}, "position"),
            ({"locale": "fr"}, "locale"),
            ({"sound": "yes"}, "sound"),
            ({"label": "x" * 41}, "label"),
            ({"font": "Comic Sans"}, "font"),
        ]:
            answer = await http.patch(url, json=bad)
            assert answer.status_code == 422, bad
            assert (answer.json()["code"], answer.json()["field"]) == ("invalid_setting", field)
        not_json = await http.patch(url, content=b"color=red", headers={"Content-Type": "text/plain"})
        assert not_json.json()["code"] == "json_required"

        done = await http.patch(url, json={"color": "#E11D48", "position": "left", "consent_required": True})
        assert done.status_code == 200
        assert done.json()["widget"] | {} == {
            "color": "#E11D48",
            "position": "left",
            "label": "",
            "locale": "auto",
            "welcome": "",
            "sound": True,
            "consent_required": True,
            "require_identity": False,
        }
        config = await http.get(f"/api/v1/widget/config?site={site.key}")
        assert config.json()["position"] == "left"  # this process forgets its cached copy at once


async def test_a_settings_change_reaches_every_process_at_once(stack: Stack) -> None:
    """On PostgreSQL + Redis the change is made on one process and read on the other,
    which had the site cached; it used to keep the old copy for up to 30 s."""
    site = stack.create_site()
    config = f"/api/v1/widget/config?site={site.key}"
    async with (
        httpx.AsyncClient(base_url=stack.visitor_url) as reader,
        httpx.AsyncClient(base_url=stack.agent_url) as admin,
    ):
        assert (await reader.get(config)).json()["color"] == "#2563eb"  # now cached there
        email, password = stack.create_agent(role="admin")
        await sign_in(admin, email, password)
        done = await admin.patch(f"/api/v1/sites/{site.key}/widget", json={"color": "#0F766E"})
        assert done.status_code == 200
        deadline = asyncio.get_running_loop().time() + 5  # the bus's latency, not the cache's 30 s
        while (await reader.get(config)).json()["color"] != "#0F766E":
            assert asyncio.get_running_loop().time() < deadline, "the other process kept its old copy"
            await asyncio.sleep(0.05)


async def test_the_config_shows_who_answers_first_names_only(stack: Stack) -> None:
    site = stack.create_site()
    stack.create_agent()
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        body = (await http.get(f"/api/v1/widget/config?site={site.key}")).json()
    assert body["team"] and len(body["team"]) <= 3
    assert all(set(p) == {"name", "avatar_url"} and " " not in p["name"] for p in body["team"])
    assert "@" not in json.dumps(body["team"])  # no emails
    assert body["reply"] == {"in": "hours"}  # nobody online


async def test_an_agent_online_means_a_reply_in_minutes_and_a_face_first(stack: Stack) -> None:
    from server.accounts.store import create_user

    site = stack.create_site()
    stack.create_agent()
    assert stack.db is not None
    stack.db.write_sync(
        lambda c: create_user(
            c, email="zed@test.example", name="Zed Online", password="zed-pass-123", role="agent"
        )
    )
    desk = AgentClient(stack.agent_url, "zed@test.example", "zed-pass-123")
    await desk.connect()
    try:
        async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
            body = (await http.get(f"/api/v1/widget/config?site={site.key}")).json()
        assert body["reply"] == {"in": "minutes"}
        assert body["team"][0]["name"] == "Zed"  # online first, though last by name
    finally:
        await desk.close()


async def test_outside_business_hours_the_config_says_when_the_team_is_back(stack: Stack) -> None:
    from datetime import UTC, datetime, timedelta

    from server.sites.hours import DAYS

    back = (datetime.now(UTC) + timedelta(days=2)).date()
    hours = {"timezone": "UTC", "weekly": {DAYS[back.weekday()]: [["09:00", "10:00"]]}}
    site = stack.create_site(proactive={"business_hours": hours})
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        body = (await http.get(f"/api/v1/widget/config?site={site.key}")).json()
    assert body["reply"] == {"in": "later", "at": f"{back.isoformat()}T09:00:00+00:00"}
