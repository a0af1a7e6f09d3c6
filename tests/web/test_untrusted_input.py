"""Input no storage can hold, JSON nested past reason and numbers JSON cannot say:
each refused with its own code, over both sockets and HTTP, on both backends,
and the socket or session stays usable afterwards."""

from __future__ import annotations

import json

import httpx
import pytest

from parley_client import Socket
from tests.harness import Stack
from tests.helpers import hello, raw_visitor, sign_in

pytestmark = pytest.mark.anyio

LONE_SURROGATE = '"\\ud800"'  # what JavaScript makes when it slices through an emoji


async def _agent_socket(stack: Stack) -> tuple[Socket, httpx.AsyncClient]:
    email, password = stack.create_agent()
    http = httpx.AsyncClient(base_url=stack.agent_url)
    await sign_in(http, email, password)
    cookie = http.cookies.get("parley_session")
    sock = await Socket.open(
        stack.agent_url.replace("http", "ws") + "/ws/v1/agent", headers={"Cookie": f"parley_session={cookie}"}
    )
    await sock.send({"type": "hello"})
    await sock.expect("welcome")
    return sock, http


async def test_a_nul_in_a_message_is_refused_and_the_socket_goes_on(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    await sock.send({"type": "message.send", "client_id": "nul", "text": "a\x00b"})
    error = await sock.expect("error")
    assert (error["code"], error["field"], error["client_id"]) == ("invalid_text", "text", "nul")
    await sock.send({"type": "message.send", "client_id": "ok", "text": "ab"})
    assert (await sock.expect("ack"))["client_id"] == "ok"
    await sock.close()


async def test_a_lone_surrogate_in_a_message_is_refused(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    await sock.send_raw('{"type":"message.send","client_id":"half","text":"emoji ' + LONE_SURROGATE[1:] + "}")
    error = await sock.expect("error")
    assert (error["code"], error["field"]) == ("invalid_text", "text")
    await sock.close()


async def test_a_hello_with_a_nul_in_the_page_title_gets_a_clear_refusal(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    answer = await hello(sock, site, page={"url": "https://shop.example/", "title": "Shop\x00"})
    assert (answer["type"], answer["code"], answer["field"]) == ("error", "invalid_text", "page.title")
    welcome = await hello(sock, site, page={"url": "https://shop.example/", "title": "Shop"})
    assert welcome["type"] == "welcome"  # the same socket, after a hello it could store
    await sock.close()


async def test_nul_in_a_name_and_in_an_agent_note_are_refused(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    await sock.send({"type": "visitor.identify", "name": "Ann\x00"})
    assert (await sock.expect("error"))["code"] == "invalid_text"
    await sock.send({"type": "message.send", "client_id": "m1", "text": "hi"})
    cid = (await sock.expect("ack"))["conversation_id"]
    agent, http = await _agent_socket(stack)
    try:
        await agent.send({"type": "note.add", "client_id": "n1", "conversation_id": cid, "text": "\ud800"})
        assert (await agent.expect("error"))["code"] == "invalid_text"
    finally:
        await agent.close()
        await http.aclose()
        await sock.close()


async def test_deep_nesting_in_a_frame_is_refused_on_both_sockets(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    deep = "[" * 3000 + "]" * 3000
    await sock.send_raw('{"type":"ping","ts":' + deep + "}")
    assert (await sock.expect("error"))["code"] == "too_deep"
    await sock.send({"type": "ping", "ts": 1})
    assert (await sock.expect("pong"))["ts"] == 1
    agent, http = await _agent_socket(stack)
    try:
        await agent.send_raw('{"type":"hello","cursors":' + deep + "}")
        assert (await agent.expect("error"))["code"] == "too_deep"
    finally:
        await agent.close()
        await http.aclose()
        await sock.close()


async def test_a_non_finite_number_is_refused_and_never_echoed(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    for raw in ('{"type":"ping","ts":1e400}', '{"type":"ping","ts":NaN}', '{"type":"ping","ts":-Infinity}'):
        await sock.send_raw(raw)
        assert (await sock.expect("error"))["code"] == "bad_json", raw
    await sock.send_raw('{"type":"ping","ts":1e300}')
    pong = await sock.expect("pong")  # Socket.recv parses with json.loads: strict JSON only
    assert pong["ts"] == 1e300
    await sock.close()


async def test_a_sequence_number_past_what_storage_holds_is_refused(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    await sock.send({"type": "message.send", "client_id": "m", "text": "hi"})
    cid = (await sock.expect("ack"))["conversation_id"]
    await sock.send({"type": "conversation.read", "conversation_id": cid, "up_to_seq": 10**30})
    assert (await sock.expect("error"))["code"] == "invalid_frame"
    await sock.close()


async def test_http_bodies_deep_non_finite_unstorable_or_huge_get_their_codes(stack: Stack) -> None:
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        cases = [
            ("[" * 50_000 + "]" * 50_000, 422, "too_deep"),
            ('{"email": "a@b.example", "password": 1e400}', 422, "bad_json"),
            ('{"email": "a\\u0000@b.example", "password": "x"}', 422, "invalid_text"),
            ('{"email": "\\udfff", "password": "x"}', 422, "invalid_text"),
            ('{"email": "' + "x" * (1 << 21) + '"}', 413, "body_too_large"),
        ]
        for body, status, code in cases:
            done = await http.post("/api/v1/auth/login", content=body, headers=headers)
            assert (done.status_code, done.json()["code"]) == (status, code), body[:40]
        email, password = stack.create_agent(role="admin")
        await sign_in(http, email, password)
        site = stack.create_site()
        deep = await http.patch(
            f"/api/v1/sites/{site.key}/widget", content="{" + '"a":{' * 20_000, headers=headers
        )
        assert (deep.status_code, deep.json()["code"]) == (422, "too_deep")
        assert (await http.get("/api/v1/me")).status_code == 200  # still signed in, nothing broke


async def test_a_nul_in_an_address_is_refused_before_any_route(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        for path in ("/api/v1/conversations/%00", "/api/v1/widget/config?site=%00"):
            done = await http.get(path)
            assert (done.status_code, done.json()["code"]) == (400, "invalid_text"), path
    site = stack.create_site()
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        await Socket.open(stack.visitor_url.replace("http", "ws") + f"/ws/v1/visitor?site={site.key}%00")
    assert refused.value.response.status_code == 400
    assert json.loads(refused.value.response.body or b"{}")["code"] == "invalid_text"
