"""Peers that stop reading, never finish a handshake, flood, or outlive a shutdown:
each is closed (or cut) within a bounded time and stops counting against limits.

The bounds are written in docs/protocol.md ("Time bounds"); here they are small
so each test ends in seconds. Transport is the same whatever the storage, so
these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from parley_client import Socket, VisitorClient
from tests.harness import Stack, build_stack
from tests.helpers import eventually, hello, raw_visitor, raw_websocket, sign_in, text_frame

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def bounded() -> Iterator[Stack]:
    built = build_stack(
        "sqlite",
        connections_per_ip="12",
        handshake_timeout_s="1",
        send_timeout_s="2",
        close_timeout_s="1",
        max_message_chars="8000",
        max_frame_bytes="65536",
        frames_per_connection="100000",
    )
    yield built
    built.close()


async def _connections(stack: Stack) -> int:
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        return int((await http.get("/healthz")).json()["connections"])


def _cut(sock: socket.socket, timeout: float) -> bool:
    """Whether the server ended the connection (EOF or reset) within the timeout."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


async def test_a_silent_tcp_connection_is_cut_after_the_handshake_timeout(bounded: Stack) -> None:
    port = int(bounded.visitor_url.rsplit(":", 1)[1])
    silent = socket.create_connection(("127.0.0.1", port))
    assert await asyncio.to_thread(_cut, silent, 5)
    silent.close()


async def test_a_half_sent_upgrade_is_cut_after_the_handshake_timeout(bounded: Stack) -> None:
    port = int(bounded.visitor_url.rsplit(":", 1)[1])
    trickle = socket.create_connection(("127.0.0.1", port))
    trickle.sendall(b"GET /ws/v1/visitor?site=x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
    assert await asyncio.to_thread(_cut, trickle, 5)
    trickle.close()


async def test_half_open_connections_count_against_the_per_address_limit(bounded: Stack) -> None:
    site = bounded.create_site()
    port = int(bounded.visitor_url.rsplit(":", 1)[1])
    url = bounded.visitor_url.replace("http", "ws") + f"/ws/v1/visitor?site={site.key}"
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
    try:
        with pytest.raises(InvalidStatus) as refused:
            await Socket.open(url)
        assert refused.value.response.status_code == 429
        assert json.loads(refused.value.response.body or b"{}")["code"] == "too_many_connections"
        # Once cut by the handshake timeout they stop counting.
        for sock in silent:
            assert await asyncio.to_thread(_cut, sock, 5)
        sock_ok = await raw_visitor(bounded, site)
        assert (await hello(sock_ok, site))["type"] == "welcome"
        await sock_ok.close()
    finally:
        for sock in silent:
            sock.close()


async def test_an_agent_socket_that_stops_reading_is_cut_and_uncounted(bounded: Stack) -> None:
    site = bounded.create_site()
    email, password = bounded.create_agent()
    async with httpx.AsyncClient(base_url=bounded.agent_url) as http:
        await sign_in(http, email, password)
        cookie = f"parley_session={http.cookies.get('parley_session')}"
    ws_url = bounded.agent_url.replace("http", "ws") + "/ws/v1/agent"
    stalled = raw_websocket(ws_url, {"Cookie": cookie}, receive_buffer=4096)
    stalled.sendall(text_frame(json.dumps({"type": "hello"})))  # and never reads again
    writer = await Socket.open(ws_url, headers={"Cookie": cookie})
    await writer.send({"type": "hello"})
    await writer.expect("welcome")
    visitor = await raw_visitor(bounded, site)
    await hello(visitor, site)
    await visitor.send({"type": "message.send", "client_id": "v", "text": "hi"})
    cid = (await visitor.expect("ack"))["conversation_id"]
    await visitor.close()
    baseline = await _connections(bounded)

    async def cut() -> bool:
        return await _connections(bounded) < baseline

    text = "x" * 7900
    sent = 0
    while sent < 6000 and not await cut():
        for _ in range(100):
            sent += 1
            await writer.send(
                {"type": "message.send", "client_id": f"w{sent}", "conversation_id": cid, "text": text}
            )
        for _ in range(100):
            await writer.expect("ack", timeout=30)
    assert await eventually(cut, 10), f"the stalled socket was still open after {sent} messages"
    assert await asyncio.to_thread(_cut, stalled, 5)
    stalled.close()
    # The writer, which reads, was never disturbed.
    await writer.send({"type": "ping", "ts": 7})
    assert (await writer.expect("pong"))["ts"] == 7
    await writer.close()


async def test_shutdown_closes_with_1001_and_the_client_reconnects_at_once() -> None:
    built = build_stack("sqlite")
    try:
        site = built.create_site()
        sock = await raw_visitor(built, site)
        await hello(sock, site)
        # A backoff of 30 s: only the 1001 rule can make it try again within the test.
        client = VisitorClient(built.visitor_url, site.key, backoff=(30.0, 30.0))
        await client.connect()
        attempts = client.attempts
        await asyncio.to_thread(built.servers[0].stop)
        closed = await sock.closed(timeout=10)
        assert (closed.code, closed.reason) == (1001, "server_shutdown")

        async def retried() -> bool:
            return client.attempts > attempts

        assert await eventually(retried, 5), "the client waited its backoff after a 1001"
        assert client.last_close is not None and client.last_close.code == 1001
        await asyncio.to_thread(built.servers[0].start)
        await client.close()
    finally:
        built.close()
