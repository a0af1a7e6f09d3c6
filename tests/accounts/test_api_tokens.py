"""API tokens over HTTP: made and revoked by admins, scoped, bound to one site, refused
at once on every process when revoked, limited per minute, and never asked for CSRF."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.sites.models import Site
from tests.harness import Stack, build_stack
from tests.helpers import signed_http

pytestmark = pytest.mark.anyio


async def made(http: httpx.AsyncClient, site: Site, *scopes: str, name: str = "shop backend") -> str:
    done = await http.post(f"/api/v1/sites/{site.key}/tokens", json={"name": name, "scopes": list(scopes)})
    assert done.status_code == 201, done.text
    secret: str = done.json()["secret"]
    return secret


def bearer(stack: Stack, secret: str, url: str | None = None) -> httpx.AsyncClient:
    """A client that only has the token: no cookie, no CSRF token."""
    return httpx.AsyncClient(
        base_url=url or stack.visitor_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code, answer.text


async def test_an_admins_token_lists_contacts_and_its_use_is_shown(stack: Stack) -> None:
    site = stack.create_site()
    async with signed_http(stack, role="admin") as admin:
        secret = await made(admin, site, "contacts:read")
        assert secret.startswith("pat_") and len(secret) > 40
        async with bearer(stack, secret) as api:
            answer = await api.get(f"/api/v1/sites/{site.key}/contacts")
        assert answer.status_code == 200, answer.text
        assert answer.json()["contacts"] == []
        listed = (await admin.get(f"/api/v1/sites/{site.key}/tokens")).json()
        (token,) = listed["tokens"]
        assert (token["name"], token["scopes"]) == ("shop backend", ["contacts:read"])
        assert token["revoked_at"] is None
        assert secret.startswith(token["hint"]) and token["last_used_at"] is not None
        assert "secret" not in token and "digest" not in token
        assert "webhooks:manage" in listed["scopes"]


async def test_a_write_needs_the_write_scope_and_no_csrf_token(stack: Stack) -> None:
    site = stack.create_site()
    async with signed_http(stack, role="admin") as admin:
        reader = await made(admin, site, "contacts:read", name="reader")
        writer = await made(admin, site, "contacts:read", "contacts:write", name="CRM sync")
    async with bearer(stack, reader) as api:
        answer = await api.post(f"/api/v1/sites/{site.key}/contacts", json={"email": "ana@shop.example"})
    refused(answer, 403, "scope_missing")
    assert answer.json()["scope"] == "contacts:write"
    async with bearer(stack, writer) as api:
        added = await api.post(f"/api/v1/sites/{site.key}/contacts", json={"email": "ana@shop.example"})
        assert added.status_code == 201, added.text
        contact_id = added.json()["contact"]["id"]
        tagged = await api.post(f"/api/v1/contacts/{contact_id}/tags", json={"add": ["from-crm"]})
        assert tagged.status_code == 200, tagged.text
        page = (await api.get(f"/api/v1/contacts/{contact_id}")).json()
    assert page["contact"]["tags"] == ["from-crm"]
    by = {(h["by"]["type"], h["by"]["name"]) for h in page["history"]}
    assert by == {("api", "CRM sync")}  # the history names the token, not a teammate


async def test_a_token_reaches_only_its_own_site(stack: Stack) -> None:
    mine, theirs = stack.create_site(), stack.create_site()
    async with signed_http(stack, role="admin") as admin:
        secret = await made(admin, mine, "contacts:read", "contacts:write")
        other = await admin.post(f"/api/v1/sites/{theirs.key}/contacts", json={"email": "bo@else.example"})
        assert other.status_code == 201, other.text
    async with bearer(stack, secret) as api:
        refused(await api.get(f"/api/v1/sites/{theirs.key}/contacts"), 403, "token_site")
        contact_id = other.json()["contact"]["id"]
        refused(await api.get(f"/api/v1/contacts/{contact_id}"), 403, "token_site")
        refused(await api.post(f"/api/v1/contacts/{contact_id}/tags", json={"add": ["x"]}), 403, "token_site")


async def test_a_revoked_token_fails_at_once_on_every_process(stack: Stack) -> None:
    site = stack.create_site()
    async with signed_http(stack, role="admin") as admin:
        secret = await made(admin, site, "contacts:read")
        async with bearer(stack, secret, stack.visitor_url) as api:  # another process on PostgreSQL
            assert (await api.get(f"/api/v1/sites/{site.key}/contacts")).status_code == 200
            (token,) = (await admin.get(f"/api/v1/sites/{site.key}/tokens")).json()["tokens"]
            revoked = await admin.delete(f"/api/v1/tokens/{token['id']}")
            assert revoked.status_code == 200 and revoked.json()["token"]["revoked_at"], revoked.text
            refused(await api.get(f"/api/v1/sites/{site.key}/contacts"), 401, "token_revoked")
    async with bearer(stack, secret[:-2] + "xx") as forged:
        refused(await forged.get(f"/api/v1/sites/{site.key}/contacts"), 401, "invalid_token")


async def test_routes_for_people_refuse_tokens(stack: Stack) -> None:
    site = stack.create_site()
    async with signed_http(stack, role="admin") as admin:
        secret = await made(admin, site, "conversations:read", "contacts:read")
    async with bearer(stack, secret) as api:
        refused(await api.get("/api/v1/inbox"), 403, "token_not_accepted")
        refused(await api.get(f"/api/v1/sites/{site.key}/tokens"), 403, "token_not_accepted")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "", "scopes": ["contacts:read"]}, "invalid_name"),
        ({"name": "x" * 101, "scopes": ["contacts:read"]}, "invalid_name"),
        ({"name": "ok", "scopes": []}, "invalid_scope"),
        ({"name": "ok", "scopes": ["contacts:delete"]}, "invalid_scope"),
        ({"name": "ok", "scopes": ["contacts:read"], "site": "other"}, "invalid_input"),
    ],
)
async def test_a_wrong_token_request_is_refused_with_its_code(
    stack: Stack, body: dict[str, Any], code: str
) -> None:
    site = stack.create_site()
    async with signed_http(stack, role="admin") as admin:
        refused(await admin.post(f"/api/v1/sites/{site.key}/tokens", json=body), 422, code)
        assert (await admin.get(f"/api/v1/sites/{site.key}/tokens")).json()["tokens"] == []


async def test_agents_cannot_see_or_make_tokens(stack: Stack) -> None:
    site = stack.create_site()
    async with signed_http(stack) as agent:
        body = {"name": "x", "scopes": ["contacts:read"]}
        answer = await agent.post(f"/api/v1/sites/{site.key}/tokens", json=body)
        assert answer.status_code == 403, answer.text
        assert (await agent.get(f"/api/v1/sites/{site.key}/tokens")).status_code == 403
        refused(await agent.delete("/api/v1/tokens/tok_none"), 403, "section_forbidden")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def limited(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Servers that allow each token 5 requests a minute."""
    built = build_stack(request.param, api_requests_per_minute="5")
    yield built
    built.close()


async def test_a_token_past_its_limit_gets_429_with_retry_after(limited: Stack) -> None:
    site = limited.create_site()
    async with signed_http(limited, role="admin") as admin:
        secret = await made(admin, site, "contacts:read")
    async with bearer(limited, secret) as api:
        for _ in range(3):  # a run that falls across a minute's end starts again
            started = time.gmtime().tm_min
            answers = [await api.get(f"/api/v1/sites/{site.key}/contacts") for _ in range(6)]
            if time.gmtime().tm_min == started:
                break
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
