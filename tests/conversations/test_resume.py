"""Resume: after a reconnect the client gets exactly what it missed, in order."""

from __future__ import annotations

import pytest

from parley_client import VisitorClient
from tests.harness import Stack
from tests.helpers import agent, by, chat, event_in, hello, raw_visitor, visitor

pytestmark = pytest.mark.anyio


async def test_resume_replays_missed_events_in_order(stack: Stack) -> None:
    async with chat(stack) as (site, alice, ana):
        cid = (await alice.send("first"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        await event_in(alice, cid, "message.created")
        seen = alice.cursors[cid]
        token = alice.token
        await alice.close()

        for i in range(4):
            await ana.send(f"while you were away {i}", cid)

        sock = await raw_visitor(stack, site)
        welcome = await hello(sock, site, token=token, cursors={cid: seen})
        assert welcome["type"] == "welcome"
        assert welcome["visitor"]["id"] == alice.visitor["id"]  # type: ignore[index]
        assert [c["id"] for c in welcome["conversations"]] == [cid]
        replayed = [await sock.expect(lambda f: f.get("conversation_id") == cid) for _ in range(5)]
        seqs = [f["seq"] for f in replayed]
        assert seqs == list(range(seen + 1, seen + 6))
        texts = [f["message"]["text"] for f in replayed if f["type"] == "message.created"]
        assert texts == [f"while you were away {i}" for i in range(4)]
        await sock.close()


async def test_a_dropped_connection_loses_and_doubles_nothing(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        cid = (await alice.send("start"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        await alice.drop()
        # While the visitor is away: agent messages, and the visitor's queued sends.
        for i in range(3):
            await ana.send(f"agent {i}", cid)
        pending = [alice.send_nowait(f"queued {i}", cid) for i in range(3)]
        acks = [await p for p in pending]
        assert alice.connections >= 2
        assert len({a["message_id"] for a in acks}) == 3

        got = [await event_in(alice, cid, "message.created", by("agent")) for _ in range(3)]
        assert [g["message"]["text"] for g in got] == ["agent 0", "agent 1", "agent 2"]
        page = await ana.history_page(cid, limit=200)
        texts = [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"]
        assert sorted(texts) == sorted(
            ["start", "agent 0", "agent 1", "agent 2", "queued 0", "queued 1", "queued 2"]
        )
        seqs = [e["seq"] for e in page["events"]]
        assert seqs == list(range(1, len(seqs) + 1))


async def test_resume_across_a_server_restart(stack: Stack) -> None:
    site = stack.create_site()
    alice = await visitor(stack, site)
    ana = await agent(stack)
    cid = (await alice.send("before the restart"))["conversation_id"]
    await event_in(ana, cid, "message.created")
    await ana.close()
    for server in stack.servers:
        server.restart()
    try:
        ana = await agent(stack)
        await ana.send("after the restart", cid)
        got = await event_in(alice, cid, "message.created", by("agent"), timeout=20)
        assert got["message"]["text"] == "after the restart"
        assert alice.connections >= 2
        assert (await alice.send("still here", cid))["duplicate"] is False
    finally:
        await alice.close()
        await ana.close()


async def test_stale_resume_asks_for_a_refetch_and_history_fills_the_gap(tight_stack: Stack) -> None:
    stack = tight_stack  # replay limit 5
    async with chat(stack) as (site, alice, ana):
        cid = (await alice.send("hello"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        await event_in(alice, cid, "message.created")
        token, cursor = alice.token, alice.cursors[cid]
        await alice.close()
        for i in range(8):
            await ana.send(f"reply {i}", cid)

        sock = await raw_visitor(stack, site)
        await hello(sock, site, token=token, cursors={cid: cursor})
        refetch = await sock.expect("error")
        assert refetch["code"] == "resync_required"
        assert refetch["conversation_id"] == cid
        assert refetch["reason"] == "too_far_behind"
        await sock.close()

        # The reference client does what the protocol asks: pages the gap in over HTTP.
        again = VisitorClient(stack.visitor_url, site.key, token=token, cursors={cid: cursor})
        await again.connect()
        texts = [(await event_in(again, cid, "message.created"))["message"]["text"] for _ in range(8)]
        assert texts == [f"reply {i}" for i in range(8)]
        await ana.send("live again", cid)
        assert (await event_in(again, cid, "message.created"))["message"]["text"] == "live again"
        await again.close()


async def test_a_cursor_ahead_of_the_server_is_told_to_refetch(stack: Stack) -> None:
    site = stack.create_site()
    alice = await visitor(stack, site)
    cid = (await alice.send("hi"))["conversation_id"]
    await alice.close()
    sock = await raw_visitor(stack, site)
    await hello(sock, site, token=alice.token, cursors={cid: 999})
    frame = await sock.expect("error")
    assert frame["code"] == "resync_required" and frame["reason"] == "ahead_of_server"
    assert frame["last_seq"] == 2
    await sock.close()


async def test_resume_of_an_unknown_or_foreign_conversation_is_refused(stack: Stack) -> None:
    site = stack.create_site()
    alice = await visitor(stack, site)
    cid = (await alice.send("mine"))["conversation_id"]
    sock = await raw_visitor(stack, site)
    try:
        await hello(sock, site, cursors={cid: 0, "cnv_doesnotexist": 0})
        errors = [await sock.expect("error"), await sock.expect("error")]
        assert {e["code"] for e in errors} == {"conversation_not_found"}
        assert {e["conversation_id"] for e in errors} == {cid, "cnv_doesnotexist"}
        assert not [f for f in sock.pending() if f.get("type") == "message.created"]
    finally:
        await sock.close()
        await alice.close()


async def test_history_pages_backwards_and_forwards(stack: Stack) -> None:
    site = stack.create_site()
    alice = await visitor(stack, site)
    try:
        cid = None
        for i in range(7):
            cid = (await alice.send(f"m{i}", cid))["conversation_id"]
        assert cid is not None
        newest = await alice.history_page(cid, limit=3)
        assert [e["seq"] for e in newest["events"]] == [6, 7, 8] and newest["has_more"]
        older = await alice.history_page(cid, limit=3, before=6)
        assert [e["seq"] for e in older["events"]] == [3, 4, 5] and older["has_more"]
        oldest = await alice.history_page(cid, limit=3, before=3)
        assert [e["seq"] for e in oldest["events"]] == [1, 2] and not oldest["has_more"]
        forward = await alice.history_page(cid, after=5, limit=10)
        assert [e["seq"] for e in forward["events"]] == [6, 7, 8] and not forward["has_more"]
    finally:
        await alice.close()
