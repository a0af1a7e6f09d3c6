"""Serving the widget over HTTP: compression, caching, the config endpoint and the settings API."""

from __future__ import annotations

import asyncio
import gzip
import re

import brotli
import httpx
import pytest

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
