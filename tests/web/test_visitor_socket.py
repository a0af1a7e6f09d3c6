"""The visitor socket's handshake: origins, tokens, and every class of bad frame."""

from __future__ import annotations

import json

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from websockets.exceptions import InvalidStatus

from tests.harness import Stack
from tests.helpers import hello, raw_visitor, visitor

pytestmark = pytest.mark.anyio


async def _refused(stack: Stack, site_key: str, origin: str | None) -> tuple[int, dict[str, str]]:
    try:
        from parley_client import Socket

        sock = await Socket.open(
            stack.visitor_url.replace("http", "ws") + f"/ws/v1/visitor?site={site_key}", origin=origin
        )
    except InvalidStatus as exc:
        return exc.response.status_code, json.loads(exc.response.body or b"{}")
    await sock.close()
    raise AssertionError("the socket was accepted")


async def test_disallowed_origins_are_refused_before_the_socket_opens(stack: Stack) -> None:
    site = stack.create_site(["shop.example", "*.brand.example", "localhost:8001"])
    for origin in (
        "https://evil.example",
        "https://shop.example.evil.example",
        "https://brand.example",  # the wildcard covers subdomains only
        "http://localhost:9999",  # wrong port
        "null",
        "file://",
    ):
        status, body = await _refused(stack, site.key, origin)
        assert status == 403, origin
        assert body["code"] == "origin_not_allowed"
    for origin in (
        "https://shop.example",
        "http://shop.example",
        "https://www.brand.example",
        "http://localhost:8001",
    ):
        sock = await raw_visitor(stack, site, origin=origin)
        assert (await hello(sock, site))["type"] == "welcome", origin
        await sock.close()


async def test_originless_clients_follow_the_site_setting(stack: Stack) -> None:
    mobile_ok = stack.create_site(["shop.example"])
    sock = await raw_visitor(stack, mobile_ok)  # no Origin: a mobile SDK
    assert (await hello(sock, mobile_ok))["type"] == "welcome"
    await sock.close()
    browsers_only = stack.create_site(["shop.example"], allow_originless=False)
    status, body = await _refused(stack, browsers_only.key, None)
    assert (status, body["code"]) == (403, "origin_not_allowed")


async def test_unknown_site_key_is_refused(stack: Stack) -> None:
    status, body = await _refused(stack, "no-such-site", None)
    assert (status, body["code"]) == (404, "site_unknown")


async def test_returning_visitor_gets_identity_and_open_conversations(stack: Stack) -> None:
    site = stack.create_site()
    first = await visitor(stack, site)
    assert first.welcome["visitor"]["new"] is True  # type: ignore[index]
    cid = (await first.send("remember me"))["conversation_id"]
    await first.close()
    sock = await raw_visitor(stack, site)
    welcome = await hello(sock, site, token=first.token)
    assert welcome["visitor"]["id"] == first.visitor["id"]  # type: ignore[index]
    assert welcome["visitor"]["new"] is False
    assert [(c["id"], c["status"], c["last_seq"]) for c in welcome["conversations"]] == [(cid, "open", 2)]
    assert welcome["token"]  # a fresh token every hello: it slides
    await sock.close()


@pytest.mark.parametrize("case", ["forged", "expired", "other_site", "garbage"])
async def test_bad_tokens_are_refused_with_a_clear_code(stack: Stack, case: str) -> None:
    site = stack.create_site()
    other = stack.create_site()
    alice = await visitor(stack, site)
    await alice.close()
    secret = stack.env["PARLEY_SECRET_KEY"]
    vid = alice.visitor["id"]  # type: ignore[index]
    token, code = {
        "forged": (
            URLSafeTimedSerializer("not-the-key", salt="parley.visitor.v1").dumps({"v": vid, "s": site.id}),
            "token_invalid",
        ),
        "expired": (_expired_token(secret, vid, site.id), "token_expired"),
        "other_site": (alice.token, "token_wrong_site"),
        "garbage": ("x" * 40, "token_invalid"),
    }[case]
    target = other if case == "other_site" else site
    sock = await raw_visitor(stack, target)
    frame = await hello(sock, target, token=token)
    assert frame["type"] == "error" and frame["code"] == code
    closed = await sock.closed()
    assert closed.code == 4401


def _expired_token(secret: str, visitor_id: str, site_id: str) -> str:
    import time
    from unittest import mock

    signer = URLSafeTimedSerializer(secret, salt="parley.visitor.v1")
    with mock.patch("time.time", return_value=time.time() - 400 * 24 * 3600):
        return signer.dumps({"v": visitor_id, "s": site_id})


async def test_every_bad_frame_class_gets_a_stable_code_and_the_socket_stays_usable(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    try:
        await sock.send({"type": "message.send", "client_id": "a", "text": "too early"})
        assert (await sock.expect("error"))["code"] == "hello_required"
        assert (await hello(sock, site))["type"] == "welcome"
        cases = [
            ("{not json", "bad_json"),
            ("[1, 2, 3]", "bad_frame"),
            ('{"no_type": true}', "bad_frame"),
            ('{"type": 7}', "bad_frame"),
            ('{"type": "message.explode"}', "unknown_type"),
            ('{"type": "message.send", "client_id": "a"}', "invalid_frame"),  # missing text
            ('{"type": "message.send", "client_id": "a", "text": 5}', "invalid_frame"),
            ('{"type": "message.send", "client_id": "a", "text": "x", "extra": 1}', "invalid_frame"),
            ('{"type": "conversation.read", "conversation_id": "c", "up_to_seq": "3"}', "invalid_frame"),
            ('{"type": "message.send", "client_id": "bad id!", "text": "x"}', "invalid_frame"),
            ('{"type": "hello", "site_key": "' + site.key + '"}', "hello_repeated"),
            ('{"type": "message.send", "client_id": "e", "text": "   "}', "message_empty"),
        ]
        for raw, code in cases:
            await sock.send_raw(raw)
            error = await sock.expect("error")
            assert error["code"] == code, raw
            assert error["message"] and "Traceback" not in json.dumps(error)
        await sock.send_raw(b"\x00\x01binary")
        assert (await sock.expect("error"))["code"] == "binary_frame"
        invalid = await _error_for(sock, '{"type": "message.send", "client_id": "a", "text": 5}')
        assert invalid["details"] == [{"field": "text", "problem": "Input should be a valid string"}]
        # Still usable:
        await sock.send({"type": "message.send", "client_id": "ok-1", "text": "still works"})
        assert (await sock.expect("ack"))["duplicate"] is False
        await sock.send({"type": "ping", "ts": 1})
        assert (await sock.expect("pong"))["ts"] == 1
    finally:
        await sock.close()


async def _error_for(sock: object, raw: str) -> dict[str, object]:
    await sock.send_raw(raw)  # type: ignore[attr-defined]
    return await sock.expect("error")  # type: ignore[attr-defined,no-any-return]


async def test_site_key_in_hello_must_match_the_socket_url(stack: Stack) -> None:
    site = stack.create_site()
    other = stack.create_site()
    sock = await raw_visitor(stack, site)
    frame = await hello(sock, other)
    assert frame["code"] == "site_mismatch"
    assert (await hello(sock, site))["type"] == "welcome"
    await sock.close()


async def test_http_errors_are_json_with_a_code(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        missing = await http.get("/no/such/page")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        no_token = await http.get("/api/v1/visitor/conversations", params={"site": "nope"})
        assert no_token.json()["code"] == "site_unknown"
        site = stack.create_site()
        bad = await http.get(
            "/api/v1/visitor/conversations",
            params={"site": site.key},
            headers={"Authorization": "Bearer forged"},
        )
        assert bad.status_code == 401 and bad.json()["code"] == "token_invalid"
