"""Agent sign-in and the agent socket: sessions, revocation, cross-site refusal."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from parley_client import AgentClient, Socket
from tests.harness import Stack
from tests.helpers import agent, chat, event_in, sign_in

pytestmark = pytest.mark.anyio


async def _denied(url: str, **options: object) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        await Socket.open(url, **options)  # type: ignore[arg-type]
    response = refused.value.response
    return response.status_code, json.loads(response.body or b"{}")["code"]


async def test_login_sets_a_signed_httponly_session(stack: Stack) -> None:
    email, password = stack.create_agent()
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        wrong = await http.post("/api/v1/auth/login", json={"email": email, "password": "nope-nope"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "bad_credentials")
        nobody = await http.post("/api/v1/auth/login", json={"email": "x@y.example", "password": "whatever1"})
        assert nobody.json()["code"] == "bad_credentials"
        form = await http.post("/api/v1/auth/login", data={"email": email, "password": password})
        assert (form.status_code, form.json()["code"]) == (422, "json_required")
        assert (await http.get("/api/v1/me")).json()["code"] == "not_authenticated"

        ok = await http.post("/api/v1/auth/login", json={"email": email.upper(), "password": password})
        assert ok.status_code == 200 and ok.json()["user"]["email"] == email
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert (await http.get("/api/v1/me")).json()["user"]["email"] == email

        refused = await http.post("/api/v1/auth/logout")
        assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
        await http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": ok.json()["csrf_token"]})
        assert (await http.get("/api/v1/me")).status_code == 401


async def test_agent_socket_needs_a_valid_session_and_a_same_origin_page(stack: Stack) -> None:
    url = stack.agent_url.replace("http", "ws") + "/ws/v1/agent"
    assert await _denied(url) == (401, "not_authenticated")
    assert await _denied(url, headers={"Cookie": "parley_session=forged.value.here"}) == (
        401,
        "not_authenticated",
    )
    ana = await agent(stack)
    cookie = {"Cookie": f"parley_session={ana.session}"}
    assert await _denied(url, headers=cookie, origin="https://evil.example") == (403, "origin_not_allowed")
    same = await Socket.open(url, headers=cookie, origin=stack.agent_url)
    await same.send({"type": "hello"})
    assert (await same.expect("welcome"))["user"]["id"] == ana.user["id"]  # type: ignore[index]
    await same.send({"type": "message.send", "client_id": "a1", "text": "where to?"})
    error = await same.expect("error")
    assert (error["code"], error["client_id"]) == ("invalid_frame", "a1")
    await same.close()
    await ana.close()


async def test_changing_the_password_closes_every_open_socket_of_that_user(stack: Stack) -> None:
    email, password = stack.create_agent()
    # One socket on each server process, when there are two.
    first = AgentClient(stack.visitor_url, email, password, reconnect=False)
    await first.connect()
    second = AgentClient(stack.agent_url, email, password, reconnect=False)
    second.session = first.session
    await second.connect()
    async with httpx.AsyncClient(
        base_url=stack.agent_url,
        cookies={"parley_session": first.session or ""},
        headers={"X-CSRF-Token": first.csrf_token or ""},
    ) as http:
        wrong = await http.post(
            "/api/v1/me/password", json={"current_password": "bad", "new_password": "x" * 12}
        )
        assert wrong.json()["code"] == "bad_credentials"
        changed = await http.post(
            "/api/v1/me/password", json={"current_password": password, "new_password": "new-password-123"}
        )
        assert changed.status_code == 200
        new_cookie = changed.cookies.get("parley_session")
    for client in (first, second):
        closed = await client.wait_closed(timeout=5)
        assert closed is not None and (closed.code, closed.reason) == (4401, "session_revoked")
        assert (await client.next_error())["code"] == "session_revoked"
    url = stack.agent_url.replace("http", "ws") + "/ws/v1/agent"
    assert await _denied(url, headers={"Cookie": f"parley_session={first.session}"}) == (
        401,
        "session_revoked",
    )
    fresh = await Socket.open(url, headers={"Cookie": f"parley_session={new_cookie}"})
    await fresh.send({"type": "hello"})
    assert (await fresh.expect("welcome"))["type"] == "welcome"
    await fresh.close()


async def test_agent_sees_new_conversations_live_and_lists_them(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        cid = (await alice.send("new here"))["conversation_id"]
        created = await event_in(ana, cid, "conversation.created")
        assert created["visitor_id"] == alice.visitor["id"]  # type: ignore[index]
        async with httpx.AsyncClient(
            base_url=stack.agent_url,
            cookies={"parley_session": ana.session or ""},
            headers={"X-CSRF-Token": ana.csrf_token or ""},
        ) as http:
            listed = (await http.get("/api/v1/conversations", params={"limit": 200})).json()["conversations"]
            assert cid in [c["id"] for c in listed]
            bad = await http.get("/api/v1/conversations", params={"status": "weird"})
            assert bad.json()["code"] == "invalid_parameter"
            bad = await http.get(f"/api/v1/conversations/{cid}/events", params={"limit": "lots"})
            assert bad.json()["code"] == "invalid_parameter"
            missing = await http.get("/api/v1/conversations/cnv_nope/events")
            assert (missing.status_code, missing.json()["code"]) == (404, "conversation_not_found")


async def test_login_form_page(stack: Stack) -> None:
    email, password = stack.create_agent()
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        page = await http.get("/login")
        assert page.status_code == 200 and 'name="password"' in page.text
        bad = await http.post("/login", data={"email": email, "password": "wrong-one"})
        assert bad.status_code == 401 and "Wrong email or password" in bad.text
        cross = await http.post(
            "/login", data={"email": email, "password": password}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        ok = await http.post("/login", data={"email": email, "password": password})
        assert ok.status_code == 303 and "parley_session" in ok.cookies


async def test_signing_out_ends_the_session_everywhere_and_closes_its_sockets(stack: Stack) -> None:
    email, password = stack.create_agent()
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        signed = await sign_in(http, email, password)
        stolen = http.cookies.get("parley_session")
        other = AgentClient(stack.agent_url, email, password)
        await other.connect()
        cookie = {"Cookie": f"parley_session={stolen}"}
        sock = await Socket.open(stack.agent_url.replace("http", "ws") + "/ws/v1/agent", headers=cookie)
        await sock.send({"type": "hello"})
        await sock.expect("welcome")

        done = await http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed["csrf_token"]})
        assert done.status_code == 200
        # The old cookie, replayed against either process, is refused from now on.
        for base in (stack.visitor_url, stack.agent_url):
            async with httpx.AsyncClient(base_url=base, headers=cookie) as thief:
                replay = await thief.get("/api/v1/me")
            assert (replay.status_code, replay.json()["code"]) == (401, "session_revoked")
        closed = await sock.closed()
        assert (closed.code, closed.reason) == (4401, "session_revoked")
        # Another sign-in of the same user goes on.
        async with httpx.AsyncClient(
            base_url=stack.agent_url, headers={"Cookie": f"parley_session={other.session}"}
        ) as still:
            assert (await still.get("/api/v1/me")).status_code == 200
        assert other.connected.is_set()
        await other.close()


async def test_the_sign_in_throttle_says_when_to_retry_in_a_header(stack: Stack) -> None:
    email, _password = stack.create_agent()
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        for _ in range(5):
            await http.post("/api/v1/auth/login", json={"email": email, "password": "wrong-wrong"})
        limited = await http.post("/api/v1/auth/login", json={"email": email, "password": "wrong-wrong"})
        assert (limited.status_code, limited.json()["code"]) == (429, "too_many_attempts")
        assert int(limited.headers["retry-after"]) == limited.json()["retry_after_s"] > 0
        page = await http.post("/login", data={"email": email, "password": "wrong-wrong"})
        assert page.status_code == 429 and int(page.headers["retry-after"]) > 0


async def test_the_sign_in_page_cannot_be_framed_and_keeps_its_address(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        page = await http.get("/login")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["x-content-type-options"] == "nosniff"
