"""Every limit is enforced on the server, answered with a frame that names it, and loses nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from parley_client import Closed, Socket
from tests.harness import Stack, build_stack
from tests.helpers import agent, hello, raw_visitor, raw_websocket, text_frame, visitor

pytestmark = pytest.mark.anyio


async def test_message_length_limit(tight_stack: Stack) -> None:
    site = tight_stack.create_site()
    sock = await raw_visitor(tight_stack, site)
    await hello(sock, site)
    await sock.send({"type": "message.send", "client_id": "long", "text": "x" * 51})
    error = await sock.expect("error")
    assert error["code"] == "message_too_long"
    assert (error["limit"], error["length"], error["client_id"]) == (50, 51, "long")
    await sock.send({"type": "message.send", "client_id": "fits", "text": "é" * 50})
    assert (await sock.expect("ack"))["client_id"] == "fits"
    await sock.close()


async def test_frame_size_limit_keeps_the_socket_open(tight_stack: Stack) -> None:
    site = tight_stack.create_site()
    sock = await raw_visitor(tight_stack, site)
    await hello(sock, site)
    await sock.send({"type": "ping", "ts": 0, "pad": "y" * 3000})
    error = await sock.expect("error")
    assert (error["code"], error["limit"], error["max"]) == ("frame_too_large", "frame_bytes", 2048)
    await sock.send({"type": "ping", "ts": 2})
    assert (await sock.expect("pong"))["ts"] == 2
    await sock.close()


async def test_message_rate_per_connection_and_nothing_accepted_is_lost(tight_stack: Stack) -> None:
    site = tight_stack.create_site()
    sock = await raw_visitor(tight_stack, site)
    await hello(sock, site)
    for i in range(7):
        await sock.send({"type": "message.send", "client_id": f"r{i}", "text": f"m{i}"})
    results = [await sock.expect(lambda f: f["type"] in ("ack", "error")) for _ in range(7)]
    acked = [r for r in results if r["type"] == "ack"]
    refused = [r for r in results if r["type"] == "error"]
    assert len(acked) == 5 and len(refused) == 2
    for r in refused:
        assert (r["code"], r["limit"]) == ("rate_limited", "messages_per_connection")
        assert r["retry_after_ms"] > 0
    ana = await agent(tight_stack)
    page = await ana.history_page(acked[0]["conversation_id"])
    texts = [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"]
    assert texts == [f"m{i}" for i in range(5)]
    await ana.close()
    await sock.close()


async def test_message_rate_per_ip(tight_stack: Stack) -> None:
    # Eight messages per IP per window, five per connection: the third socket hits the IP limit.
    site = tight_stack.create_site()
    socks = [await raw_visitor(tight_stack, site) for _ in range(3)]
    codes = []
    for n, sock in enumerate(socks):
        await hello(sock, site)
        for i in range(3):
            await sock.send({"type": "message.send", "client_id": f"ip{n}-{i}", "text": "hi"})
            frame = await sock.expect(lambda f: f["type"] in ("ack", "error"))
            codes.append(frame.get("limit", "ack"))
    assert "messages_per_ip" in codes
    for sock in socks:
        await sock.close()


async def test_frame_flood_is_refused_then_closed(tight_stack: Stack) -> None:
    site = tight_stack.create_site()
    sock = await raw_visitor(tight_stack, site)
    await hello(sock, site)
    for i in range(40):
        await sock.send({"type": "ping", "ts": i})
    limited = await sock.expect(lambda f: f.get("code") == "rate_limited")
    assert limited["limit"] == "frames_per_connection"
    # Keep flooding: abuse closes the socket.
    for i in range(40):
        try:
            await sock.send({"type": "ping", "ts": i})
        except Exception:
            break
    closed = await sock.closed()
    assert closed.code == 4429


async def test_a_steady_flood_is_closed_even_while_its_sender_reads(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    await hello(sock, site)
    refused = 0
    closed: Closed | None = None

    async def read() -> None:
        nonlocal refused, closed
        try:
            while True:
                frame = await sock.recv(timeout=15)
                refused += frame.get("code") == "rate_limited"
        except Closed as exc:
            closed = exc

    reader = asyncio.create_task(read())
    for i in range(6000):  # about 300 frames a second, for up to 20 s
        if reader.done():
            break
        try:
            await sock.send({"type": "ping", "ts": i})
        except Exception:
            break
        await asyncio.sleep(0.003)
    await asyncio.wait_for(reader, 15)
    assert closed is not None and (closed.code, closed.reason) == (4429, "rate_limited")
    assert 0 < refused <= 2 * 120  # refused at most a bucket's worth twice, then closed


async def test_connections_per_ip_limit(tight_stack: Stack) -> None:
    from websockets.exceptions import InvalidStatus

    site = tight_stack.create_site()
    url = tight_stack.visitor_url.replace("http", "ws") + f"/ws/v1/visitor?site={site.key}"
    socks = []
    try:
        with pytest.raises(InvalidStatus) as refused:
            for _ in range(60):
                socks.append(await Socket.open(url))
        assert refused.value.response.status_code == 429
        assert b"too_many_connections" in (refused.value.response.body or b"")
        assert len(socks) >= 30
    finally:
        await asyncio.gather(*(s.close() for s in socks))


async def test_idle_and_silent_connections_are_closed(tight_stack: Stack) -> None:
    site = tight_stack.create_site()
    silent = await raw_visitor(tight_stack, site)  # never says hello
    assert (await silent.closed(timeout=5)).code == 4408

    idle = await raw_visitor(tight_stack, site)
    await hello(idle, site)
    closed = await idle.closed(timeout=5)
    assert (closed.code, closed.reason) == (4408, "idle_timeout")


async def test_heartbeats_keep_a_connection_alive(tight_stack: Stack) -> None:
    site = tight_stack.create_site()
    sock = await raw_visitor(tight_stack, site)
    welcome = await hello(sock, site)
    assert welcome["heartbeat_s"] == 0.5 and welcome["idle_timeout_s"] == 1.5
    for i in range(8):  # 4 s, well past the idle timeout
        await sock.send({"type": "ping", "ts": i})
        assert (await sock.expect("pong"))["ts"] == i
        await asyncio.sleep(0.5)
    await sock.close()


async def test_a_frame_refused_for_rate_names_its_client_id_and_the_client_retries(
    tight_stack: Stack,
) -> None:
    site = tight_stack.create_site()
    sock = await raw_visitor(tight_stack, site)
    await hello(sock, site)
    for i in range(29):  # hello + 29 pings: the 30 frames allowed
        await sock.send({"type": "ping", "ts": i})
    for i in range(4):  # beyond the allowance (a token may refill meanwhile)
        await sock.send({"type": "message.send", "client_id": f"late-{i}", "text": "x"})
    refused = await sock.expect(lambda f: f.get("code") == "rate_limited" and "client_id" in f)
    assert refused["limit"] == "frames_per_connection"
    assert refused["client_id"] in {f"late-{i}" for i in range(4)}
    await sock.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def quick_rate_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    built = build_stack(request.param, messages_per_connection="3", rate_window_s="1")
    yield built
    built.close()


async def test_the_reference_client_retries_refusals_and_sends_each_message_once(
    quick_rate_stack: Stack,
) -> None:
    site = quick_rate_stack.create_site()
    client = await visitor(quick_rate_stack, site)
    ana = await agent(quick_rate_stack)
    try:
        acks = await asyncio.gather(*(client.send(f"burst {i}") for i in range(9)))
        assert len({a["message_id"] for a in acks}) == 9
        page = await ana.history_page(acks[0]["conversation_id"])
        texts = sorted(e["message"]["text"] for e in page["events"] if e["type"] == "message.created")
        assert texts == sorted(f"burst {i}" for i in range(9))
    finally:
        await client.close()
        await ana.close()


def test_a_peer_that_talks_but_never_answers_pings_is_cut_off(tight_stack: Stack) -> None:
    """Transport pings (every 0.5 s here) find a dead path even while frames keep arriving."""
    site = tight_stack.create_site()
    url = tight_stack.visitor_url.replace("http", "ws") + f"/ws/v1/visitor?site={site.key}"
    sock = raw_websocket(url)
    sock.sendall(text_frame(json.dumps({"type": "hello", "site_key": site.key})))
    started = time.monotonic()
    next_send = started
    closed_after = None
    received = b""
    while closed_after is None and time.monotonic() - started < 8:
        now = time.monotonic()
        try:
            if now >= next_send:
                # A frame every 0.25 s keeps it far from the 1.5 s idle timeout.
                sock.sendall(text_frame('{"type":"ping"}'))
                next_send = now + 0.25
            sock.settimeout(max(0.01, next_send - time.monotonic()))
            chunk = sock.recv(65536)
            received += chunk
            if chunk == b"":
                closed_after = time.monotonic() - started
        except TimeoutError:
            continue
        except OSError:
            closed_after = time.monotonic() - started
    sock.close()
    # The server's close frame says why: 1011, the keepalive ping timed out.
    assert b"\x88" in received and b"keepalive ping timeout" in received, received[-200:]
    assert closed_after is not None, "the server kept a peer that never answered its pings"
