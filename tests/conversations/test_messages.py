"""Messages between a visitor and an agent: stored once, sequenced, delivered exactly once."""

from __future__ import annotations

import asyncio

import pytest

from parley_client import ClientError
from tests.harness import Stack
from tests.helpers import agent, by, chat, event_in, hello, raw_visitor, visitor

pytestmark = pytest.mark.anyio


async def test_visitor_and_agent_exchange_messages_both_ways(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        ack = await alice.send("Hi, is the blue kettle in stock?")
        cid = ack["conversation_id"]
        assert ack["seq"] == 2 and ack["duplicate"] is False  # seq 1 is conversation.created

        created = await event_in(ana, cid, "conversation.created")
        assert created["seq"] == 1
        seen = await event_in(ana, cid, "message.created")
        assert seen["message"]["text"] == "Hi, is the blue kettle in stock?"
        assert seen["message"]["author"]["type"] == "visitor"
        assert seen["message"]["id"] == ack["message_id"]

        reply = await ana.send("Yes! We have three left.", cid)
        # The agent who answers an unassigned conversation takes it (seq 3), then the message (seq 4).
        assert reply["seq"] == 4
        assigned = await event_in(alice, cid, "conversation.updated")
        assert assigned["assignee_id"] == ana.user["id"]  # type: ignore[index]
        got = await event_in(alice, cid, "message.created")
        assert got["message"]["text"] == "Yes! We have three left."
        assert got["message"]["author"] == {
            "type": "agent",
            "id": ana.user["id"],
            "name": ana.user["name"],
            "avatar_url": None,
        }  # type: ignore[index]
        assert got["seq"] == 4


async def test_same_client_id_is_stored_once_and_gets_the_same_ack(stack: Stack) -> None:
    site = stack.create_site()
    sock = await raw_visitor(stack, site)
    ana = await agent(stack)
    try:
        await hello(sock, site)
        frame = {"type": "message.send", "client_id": "c-123", "text": "only once please"}
        await sock.send(frame)
        first = await sock.expect("ack")
        await sock.send(frame)
        second = await sock.expect("ack")
        assert second["message_id"] == first["message_id"]
        assert second["seq"] == first["seq"]
        assert second["duplicate"] is True and first["duplicate"] is False

        # The same again with the conversation named explicitly.
        await sock.send({**frame, "conversation_id": first["conversation_id"]})
        third = await sock.expect("ack")
        assert third["message_id"] == first["message_id"]

        cid = first["conversation_id"]
        await sock.send(
            {"type": "message.send", "client_id": "c-124", "text": "next", "conversation_id": cid}
        )
        await sock.expect("ack")
        page = await ana.history_page(cid)
        texts = [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"]
        assert texts == ["only once please", "next"]
    finally:
        await sock.close()
        await ana.close()


async def test_read_receipts_travel_both_ways_with_the_time_read(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        ack = await alice.send("hello?")
        cid = ack["conversation_id"]
        await event_in(ana, cid, "message.created")
        await ana.mark_read(cid, ack["seq"])
        receipt = await event_in(alice, cid, "conversation.read", by("agent"))
        assert receipt["reader"]["type"] == "agent"
        assert receipt["up_to_seq"] == ack["seq"]
        assert receipt["read_at"].endswith("Z")

        reply = await ana.send("hi!", cid)
        await event_in(alice, cid, "message.created")
        await alice.mark_read(cid, reply["seq"])
        back = await event_in(ana, cid, "conversation.read", by("visitor"))
        assert back["reader"]["type"] == "visitor" and back["up_to_seq"] == reply["seq"]

        # Reading the same again, or less, stores and sends nothing.
        await alice.mark_read(cid, 1)
        await alice.mark_read(cid, reply["seq"])
        later = await alice.send("one more")
        nxt = await event_in(ana, cid, "message.created")
        assert nxt["seq"] == later["seq"] == back["seq"] + 1


async def test_closing_reaches_the_visitor_and_a_visitor_message_reopens(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        cid = (await alice.send("thanks, that is all"))["conversation_id"]
        await event_in(ana, cid, "message.created")
        await ana.send_frame({"type": "conversation.update", "conversation_id": cid, "status": "closed"})
        closed = await event_in(alice, cid, "conversation.updated")
        assert closed["status"] == "closed"
        assert closed["by"]["id"] == ana.user["id"]  # type: ignore[index]

        again = await alice.send("oh wait, one more thing", cid)
        reopened = await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "open")
        assert reopened["status"] == "open" and reopened["by"]["type"] == "visitor"
        msg = await event_in(ana, cid, "message.created")
        assert msg["seq"] == again["seq"] == reopened["seq"] + 1


async def test_typing_is_delivered_but_never_stored_or_replayed(stack: Stack) -> None:
    async with chat(stack) as (_site, alice, ana):
        ack = await alice.send("question")
        cid = ack["conversation_id"]
        await event_in(ana, cid, "message.created")
        await ana.typing(cid, True)
        typing = await event_in(alice, cid, "typing.updated")
        assert typing["active"] is True and typing["author"]["type"] == "agent"
        assert "seq" not in typing
        await alice.typing(cid, True)
        seen = await event_in(ana, cid, "typing.updated")
        assert seen["author"]["type"] == "visitor"

        page = await alice.history_page(cid)
        assert [e["type"] for e in page["events"]] == ["conversation.created", "message.created"]
        assert page["conversation"]["last_seq"] == ack["seq"]


async def test_two_tabs_of_one_visitor_share_the_conversation(stack: Stack) -> None:
    site = stack.create_site()
    tab1 = await visitor(stack, site)
    tab2 = await visitor(stack, site, token=tab1.token)
    ana = await agent(stack)
    try:
        assert tab2.visitor["id"] == tab1.visitor["id"]  # type: ignore[index]
        ack = await tab1.send("from tab one")
        cid = ack["conversation_id"]
        mirrored = await event_in(tab2, cid, "message.created")
        assert mirrored["message"]["client_id"] == ack["client_id"]
        # Both tabs sending at once still land in one conversation.
        a, b = await asyncio.gather(tab1.send("tab one again"), tab2.send("tab two"))
        assert a["conversation_id"] == b["conversation_id"] == cid
        await ana.send("hello both tabs", cid)
        for tab in (tab1, tab2):
            got = await event_in(tab, cid, "message.created", by("agent"))
            assert got["message"]["text"] == "hello both tabs"
    finally:
        for client in (tab1, tab2, ana):
            await client.close()


async def test_a_visitor_cannot_touch_another_visitors_conversation(stack: Stack) -> None:
    site = stack.create_site()
    alice = await visitor(stack, site)
    mallory = await visitor(stack, site)
    try:
        cid = (await alice.send("private"))["conversation_id"]
        for attempt in (
            mallory.send("let me in", cid),
            mallory.mark_read(cid, 1),
            mallory.typing(cid, True),
        ):
            try:
                await attempt
            except ClientError as exc:
                assert exc.code == "conversation_not_found"
        errors = [await mallory.next_error(), await mallory.next_error()]
        assert {e["code"] for e in errors} == {"conversation_not_found"}
        try:
            await mallory.history_page(cid)
            raise AssertionError("history of another visitor was served")
        except ClientError as exc:
            assert exc.code == "conversation_not_found"
    finally:
        await alice.close()
        await mallory.close()


async def test_a_visitor_who_writes_again_without_an_id_reopens_the_closed_conversation(
    stack: Stack,
) -> None:
    # An SDK that forgot its conversation id: the lead writes again, the thread reopens (seed 002).
    async with chat(stack) as (_site, alice, ana):  # the reference client is an SDK
        first = (await alice.send("first question"))["conversation_id"]
        await ana.send_frame({"type": "conversation.update", "conversation_id": first, "status": "closed"})
        await event_in(alice, first, "conversation.updated", lambda f: f["status"] == "closed")
        again = await alice.send("one more thing")
        assert again["conversation_id"] == first
        reopened = await event_in(ana, first, "conversation.updated", lambda f: f["status"] == "open")
        assert reopened["seq"] < again["seq"]


async def test_writing_to_a_closed_conversation_while_another_is_active_names_the_active_one(
    stack: Stack,
) -> None:
    from tests.proactive.helpers import Admin

    site = stack.create_site()
    admin = await Admin.login(stack)
    sock = await raw_visitor(stack, site)
    ana = await agent(stack)
    try:
        await hello(sock, site)
        await sock.send({"type": "message.send", "client_id": "q1", "text": "first question"})
        first = (await sock.expect("ack"))["conversation_id"]
        await ana.send_frame({"type": "conversation.update", "conversation_id": first, "status": "closed"})
        await sock.expect(lambda f: f["type"] == "conversation.updated" and f["status"] == "closed")
        # A proactive message the visitor answers opens a second conversation.
        await admin.live(site, text="Anything else?")
        await sock.send({"type": "page.view", "page": {"url": "https://shop.example/", "title": "Shop"}})
        delivery = (await sock.expect("proactive.show"))["delivery_id"]
        await sock.send({"type": "message.send", "client_id": "q2", "text": "yes", "delivery_id": delivery})
        second = (await sock.expect("ack"))["conversation_id"]
        assert second != first
        await sock.send({"type": "message.send", "client_id": "q3", "text": "back", "conversation_id": first})
        refused = await sock.expect("error")
        assert refused["code"] == "conversation_closed"
        assert refused["active_conversation_id"] == second
    finally:
        await sock.close()
        await ana.close()
        await admin.close()
