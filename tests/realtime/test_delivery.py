"""Delivery guarantees: exactly once, in order, across processes and lost publishes."""

from __future__ import annotations

import asyncio

import pytest

from server.conversations.events import Author
from server.conversations.store import post_message
from tests.harness import Stack
from tests.helpers import agent, by, chat, event_in, visitor

pytestmark = pytest.mark.anyio


async def test_many_messages_both_ways_arrive_exactly_once(stack: Stack) -> None:
    """On PostgreSQL + Redis the visitor and the agent sit on different server processes."""
    async with chat(stack) as (_site, alice, ana):
        cid = (await alice.send("opening"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        await event_in(alice, cid, "message.created")
        n = 15  # within the default per-connection message burst
        await asyncio.gather(
            *(alice.send(f"v{i}", cid) for i in range(n)),
            *(ana.send(f"a{i}", cid) for i in range(n)),
        )
        expected = {"opening"} | {f"v{i}" for i in range(n)} | {f"a{i}" for i in range(n)}
        for client in (alice, ana):
            seen = []
            while len(seen) < len(expected) - 1:  # "opening" was already consumed
                frame = await event_in(client, cid, "message.created")
                seen.append(frame)
            ids = [f["message"]["id"] for f in seen]
            assert len(ids) == len(set(ids)), "a message arrived twice"
            assert {f["message"]["text"] for f in seen} == expected - {"opening"}
            seqs = [f["seq"] for f in seen]
            assert seqs == sorted(seqs), "events arrived out of order"
            # created, opening, assignment, then 2n messages: one gap-free sequence
            assert client.cursors[cid] == 2 * n + 3
            with pytest.raises(asyncio.TimeoutError):
                await event_in(client, cid, "message.created", timeout=0.3)


async def test_an_event_committed_but_never_published_is_still_delivered(stack: Stack) -> None:
    """A crash between commit and publish: the next event shows the gap and the hub fills it."""
    async with chat(stack) as (_site, alice, ana):
        cid = (await alice.send("hello"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        assert stack.db is not None
        # Written straight to the database, as a process that died before publishing would leave it.
        ghost = stack.db.write_sync(
            lambda c: post_message(
                c,
                author=Author("agent", ana.user["id"], "Ghost"),  # type: ignore[index]
                client_id="ghost-1",
                text="committed, never published",
                conversation_id=cid,
            )
        )
        await ana.send("published normally", cid)
        first = await event_in(alice, cid, "message.created", by("agent"))
        second = await event_in(alice, cid, "message.created", by("agent"))
        assert first["message"]["text"] == "committed, never published"
        assert first["seq"] == ghost.ack["seq"]  # type: ignore[index]
        assert second["message"]["text"] == "published normally"
        assert second["seq"] == first["seq"] + 1


async def test_resume_after_a_server_crash(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        cid = (await alice.send("before the crash"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        stack.servers[0].kill()
        pending = alice.send_nowait("sent while the server is down", cid)
        stack.servers[0].start()
        ack = await asyncio.wait_for(pending, 20)
        assert ack["duplicate"] is False
        if len(stack.servers) == 1:
            await ana.connect()
        got = await event_in(ana, cid, "message.created", by("visitor"), timeout=20)
        assert got["message"]["text"] == "sent while the server is down"


@pytest.mark.parametrize("stack", ["postgres"], indirect=True)  # the in-memory bus cannot lose one
async def test_a_lost_bus_subscription_is_caught_up_from_the_database(stack: Stack) -> None:
    """Redis drops the servers' subscriptions; what was published meanwhile still arrives."""
    import redis.asyncio as redis

    from tests.harness import REDIS_URL

    site = stack.create_site()
    alice = await visitor(stack, site)
    ana = await agent(stack)
    r = redis.from_url(REDIS_URL)
    try:
        cid = (await alice.send("before the outage"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        await r.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        # Published while the servers are resubscribing: the bus loses these.
        for i in range(3):
            await alice.send(f"during the outage {i}", cid)
        got = [await event_in(ana, cid, "message.created", by("visitor"), timeout=15) for _ in range(3)]
        assert [g["message"]["text"] for g in got] == [f"during the outage {i}" for i in range(3)]
    finally:
        await r.aclose()
        await alice.close()
        await ana.close()
