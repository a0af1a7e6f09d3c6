"""Proactive messages reaching visitors over the socket: triggers, frequency, cap, replies, counters."""

from __future__ import annotations

import time

import httpx
import pytest

from parley_client import Socket
from server.sites.models import Site
from tests.harness import Stack
from tests.helpers import agent as signed_in_agent
from tests.helpers import bus_tap, event_in, hello, raw_visitor
from tests.proactive.helpers import Admin

pytestmark = pytest.mark.anyio
PRICING = {"url": "https://shop.example/pricing?utm_source=ads", "title": "Pricing"}
HOME = {"url": "https://shop.example/", "title": "Home"}


async def arrive(
    stack: Stack, site: Site, page: dict[str, str], token: str | None = None
) -> tuple[Socket, dict]:
    sock = await raw_visitor(stack, site)
    fields = {"page": page, **({"token": token} if token else {})}
    welcome = await hello(sock, site, **fields)
    assert welcome["type"] == "welcome", welcome
    return sock, welcome


async def nothing_shown(sock: Socket, wait: float = 0.6) -> None:
    await sock.send({"type": "ping", "ts": 1})
    frame = await sock.expect(lambda f: f["type"] in ("pong", "proactive.show"))
    assert frame["type"] == "pong", frame
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            frame = await sock.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            return
        assert frame["type"] != "proactive.show", frame


async def test_a_page_load_rule_shows_once_per_visit_across_tabs(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        msg = await admin.live(
            site,
            text="Questions about pricing?",
            collect=["email"],
            conditions={"all": [{"field": "page.path", "op": "starts_with", "value": "/pricing"}]},
        )
        home, welcome = await arrive(stack, site, HOME)
        await nothing_shown(home)
        tab, _ = await arrive(stack, site, PRICING, token=welcome["token"])
        shown = await tab.expect("proactive.show")
        assert shown["message_id"] == msg["id"] and shown["text"] == "Questions about pricing?"
        assert shown["collect"] == ["email"] and shown["sender"]["name"] == "Test site"
        # The same visit in another tab, or a reload: frequency says no.
        other, _ = await arrive(stack, site, PRICING, token=welcome["token"])
        await nothing_shown(other)
        await home.send({"type": "page.view", "page": PRICING})
        await nothing_shown(home)
        counted = (await admin.message(msg["id"]))["counters"]
        assert counted == {"sent": 1, "opened": 0, "replied": 0, "conversations": 0}
        for sock in (home, tab, other):
            await sock.close()
    finally:
        await admin.close()


async def test_time_on_page_fires_on_time_and_a_new_page_cancels_it(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(site, trigger={"type": "time_on_page", "seconds": 1}, frequency="every_time")
        await admin.http.patch(f"/api/v1/sites/{site.key}/proactive-settings", json={"cap_per_visit": 5})
        sock, _ = await arrive(stack, site, HOME)
        started = time.monotonic()
        shown = await sock.expect("proactive.show", timeout=5)
        assert 0.9 <= time.monotonic() - started < 2.5
        assert shown["text"] == "Hello there"
        # Leaving the page before the second is up cancels it; the next page starts again.
        await sock.send({"type": "page.view", "page": PRICING})
        await _wait(0.5)
        await sock.send({"type": "page.view", "page": HOME})
        await nothing_shown(sock, wait=0.8)
        await sock.expect("proactive.show", timeout=3)
        await sock.close()
    finally:
        await admin.close()


async def _wait(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


async def test_a_time_condition_sets_a_timer_for_the_moment_it_holds(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(site, conditions={"all": [{"field": "time_on_page", "op": "gt", "value": 1}]})
        sock, _ = await arrive(stack, site, HOME)
        started = time.monotonic()
        await sock.expect("proactive.show", timeout=5)
        assert 0.9 <= time.monotonic() - started < 2.5
        await sock.close()
    finally:
        await admin.close()


async def test_the_cap_and_priority_decide_between_rules(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(site, name="low", text="second in line", priority=50)
        await admin.live(site, name="high", text="first in line", priority=1)
        sock, welcome = await arrive(stack, site, HOME)
        shown = await sock.expect("proactive.show")
        assert shown["text"] == "first in line"
        await nothing_shown(sock)  # the cap: one per visit
        changed = await admin.http.patch(
            f"/api/v1/sites/{site.key}/proactive-settings", json={"cap_per_visit": 2}
        )
        assert changed.status_code == 200
        again, _ = await arrive(stack, site, HOME, token=welcome["token"])
        assert (await again.expect("proactive.show"))["text"] == "second in line"
        for s in (sock, again):
            await s.close()
    finally:
        await admin.close()


async def test_custom_events_trigger_and_count(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(
            site,
            trigger={"type": "event", "name": "added_to_cart"},
            conditions={"all": [{"field": "event.added_to_cart", "op": "gt", "value": 1}]},
            frequency="every_time",
        )
        sock, _ = await arrive(stack, site, HOME)
        await sock.send({"type": "event.track", "name": "added_to_cart"})
        await nothing_shown(sock)  # one so far; the rule wants more than one
        await sock.send({"type": "event.track", "name": "added_to_cart"})
        assert (await sock.expect("proactive.show"))["text"] == "Hello there"
        await sock.close()
    finally:
        await admin.close()


async def test_replying_opens_a_tagged_conversation_and_counts_exactly_once(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    desk = await signed_in_agent(stack)
    try:
        msg = await admin.live(
            site,
            text="Need help?",
            collect=["name", "email"],
            followup="Thanks! An agent is on the way.",
            tags=["vip"],
        )
        sock, welcome = await arrive(stack, site, HOME)
        shown = await sock.expect("proactive.show")
        delivery = shown["delivery_id"]
        for _ in range(2):  # opened twice (two clicks, a reconnect): counted once
            await sock.send({"type": "proactive.opened", "delivery_id": delivery})
        await sock.send({"type": "proactive.reply", "delivery_id": delivery, "name": "Rita", "email": "nope"})
        assert (await sock.expect("error"))["code"] == "invalid_email"
        await sock.send(
            {"type": "proactive.reply", "delivery_id": delivery, "name": "", "email": "r@example.com"}
        )
        assert (await sock.expect("error"))["code"] == "name_required"
        await sock.send(
            {"type": "proactive.reply", "delivery_id": delivery, "name": "Rita", "email": "r@example.com"}
        )
        replied = await sock.expect("proactive.replied")
        cid = replied["conversation_id"]
        texts = []
        while len(texts) < 2:
            frame = await sock.expect("message.created")
            texts.append((frame["message"]["author"], frame["message"]["text"]))
        assert [t for _, t in texts] == ["Need help?", "Thanks! An agent is on the way."]
        assert texts[0][0]["type"] == "system" and texts[0][0]["name"] == "Test site"
        created = await event_in(desk, cid, "conversation.created")
        assert created["tags"] == ["vip"]
        # The message's tags are the contact's too.
        async with httpx.AsyncClient(
            base_url=stack.agent_url, cookies={"parley_session": desk.session or ""}
        ) as http:
            contact = (await http.get(f"/api/v1/contacts/{welcome['visitor']['id']}")).json()
        assert contact["contact"]["tags"] == ["vip"] and contact["history"][0]["by"]["type"] == "proactive"
        # A second reply (a retry after a reconnect) adds nothing.
        again, _ = await arrive(stack, site, HOME, token=welcome["token"])
        await again.send(
            {"type": "proactive.reply", "delivery_id": delivery, "name": "Rita", "email": "r@example.com"}
        )
        assert (await again.expect("proactive.replied"))["conversation_id"] == cid
        history = await desk.history_page(cid, limit=50)
        assert sum(e["type"] == "message.created" for e in history["events"]) == 2
        counted = (await admin.message(msg["id"]))["counters"]
        assert counted == {"sent": 1, "opened": 1, "replied": 1, "conversations": 1}
        daily = (await admin.message(msg["id"]))["daily"]
        assert len(daily) == 1 and daily[0]["sent"] == 1 and daily[0]["replied"] == 1
        for s in (sock, again):
            await s.close()
    finally:
        await desk.close()
        await admin.close()


async def test_writing_answers_a_message_that_asks_for_nothing(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        msg = await admin.live(site, text="Hi! Can we help?", followup="Someone will answer soon.")
        sock, _ = await arrive(stack, site, HOME)
        delivery = (await sock.expect("proactive.show"))["delivery_id"]
        await sock.send(
            {"type": "message.send", "client_id": "c1", "text": "Yes, about sizes", "delivery_id": delivery}
        )
        ack = await sock.expect("ack")
        texts, origins = [], []
        while len(texts) < 3:
            frame = await sock.expect("message.created")
            texts.append(frame["message"]["text"])
            origins.append(frame["message"]["origin"])
        assert texts == ["Hi! Can we help?", "Yes, about sizes", "Someone will answer soon."]
        assert origins == ["proactive", "visitor", "proactive"]
        assert ack["seq"] == 3
        counted = (await admin.message(msg["id"]))["counters"]
        assert counted["replied"] == 1 and counted["conversations"] == 1
        await sock.close()
    finally:
        await admin.close()


async def test_dismissed_messages_return_as_their_frequency_allows(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(site, frequency="every_time")
        changed = await admin.http.patch(
            f"/api/v1/sites/{site.key}/proactive-settings", json={"cap_per_visit": 5}
        )
        assert changed.status_code == 200
        sock, _ = await arrive(stack, site, HOME)
        first = await sock.expect("proactive.show")
        await sock.send({"type": "proactive.dismissed", "delivery_id": first["delivery_id"]})
        await sock.send({"type": "page.view", "page": PRICING})
        second = await sock.expect("proactive.show")
        assert second["delivery_id"] != first["delivery_id"]
        await sock.close()
    finally:
        await admin.close()


async def test_an_sdk_channel_message_fires_on_an_app_screen_and_not_on_the_web(stack: Stack) -> None:
    from parley_client import VisitorClient

    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        channels = (await admin.http.get(f"/api/v1/sites/{site.key}/channels")).json()["channels"]
        sdk = next(c["id"] for c in channels if c["kind"] == "sdk")
        await admin.live(
            site,
            channel_id=sdk,
            text="Need help with your cart?",
            conditions={"all": [{"field": "page.url", "op": "contains", "value": "cart"}]},
        )
        web, _ = await arrive(stack, site, {"url": "https://s.example/cart"})
        await nothing_shown(web)
        await web.close()
        app = VisitorClient(stack.visitor_url, site.key, kind="ios")
        await app.connect()
        await app.track("opened_app")
        await app.screen("app://shop/cart", "Cart")
        shown = await app.next_event("proactive.show")
        assert shown["text"] == "Need help with your cart?"
        await app.close()
    finally:
        await admin.close()


async def test_a_reconnect_from_the_same_page_is_not_a_new_page(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    await admin.http.patch(f"/api/v1/sites/{site.key}/proactive-settings", json={"cap_per_visit": 10})
    try:
        msg = await admin.live(site, frequency="every_time")
        timed = await admin.live(
            site,
            name="timed",
            text="after 2 s",
            trigger={"type": "time_on_page", "seconds": 2},
            frequency="every_time",
        )
        page = {"url": "https://s.example/", "id": "page0001aaaa", "elapsed_s": 0}
        sock, welcome = await arrive(stack, site, page)
        assert (await sock.expect("proactive.show"))["message_id"] == msg["id"]
        await sock.close()
        # The network blinks 1.5 s into the page: the same page view, its timer keeps its moment.
        started = time.monotonic()
        again, _ = await arrive(stack, site, {**page, "elapsed_s": 1.5}, token=welcome["token"])
        shown = await again.expect("proactive.show", timeout=3)
        assert shown["message_id"] == timed["id"]  # not the page-load message a second time
        assert time.monotonic() - started < 1.2
        await again.close()
        fresh, _ = await arrive(stack, site, {**page, "id": "page0002bbbb"}, token=welcome["token"])
        assert (await fresh.expect("proactive.show"))["message_id"] == msg["id"]
        await fresh.close()
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            http.cookies = admin.http.cookies
            views = (await http.get(f"/api/v1/visitors/{welcome['visitor']['id']}")).json()["page_views"]
        assert len(views) == 2  # two page views, not three hellos
        assert (await admin.message(msg["id"]))["counters"]["sent"] == 2
    finally:
        await admin.close()


async def test_a_pattern_that_would_backtrack_never_holds_the_server(stack: Stack) -> None:
    """Used to freeze every socket of the process: 28 a's took 4.5 s, each more doubled it."""
    site = stack.create_site()
    admin = await Admin.login(stack, stack.visitor_url)
    try:
        refused = await admin.http.post(
            f"/api/v1/sites/{site.key}/proactive",
            json={
                "name": "Backreference",
                "conditions": {"all": [{"field": "page.title", "op": "matches", "value": r"(a)\1"}]},
            },
        )
        assert refused.status_code == 422
        body = refused.json()
        assert (body["code"], body["where"]) == ("pattern_unsupported", "conditions.all[0]")
        assert "backreferences" in body["message"]
        conditions = {"all": [{"field": "page.title", "op": "matches", "value": "^(a+)+$"}]}
        await admin.live(site, text="All a's!", conditions=conditions)
        evil, _ = await arrive(stack, site, {"url": "https://shop.example/", "title": "a" * 511 + "!"})
        bystander, _ = await arrive(stack, site, HOME)
        await bystander.send({"type": "ping", "ts": 5})
        assert (await bystander.expect("pong"))["ts"] == 5
        await nothing_shown(evil)
        fits, _ = await arrive(stack, site, {"url": "https://shop.example/", "title": "a" * 512})
        assert (await fits.expect("proactive.show"))["text"] == "All a's!"
        for sock in (evil, bystander, fits):
            await sock.close()
    finally:
        await admin.close()


async def test_answering_with_a_first_message_is_one_publish(processes: Stack) -> None:
    """It used to take three transactions and three publishes, glued by a made-up client id."""
    stack = processes
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        async with bus_tap(stack) as envelopes:
            await admin.live(site, text="Hi! Can we help?", followup="Someone will answer soon.")
            sock, _ = await arrive(stack, site, HOME)
            delivery = (await sock.expect("proactive.show"))["delivery_id"]
            first = {
                "type": "message.send",
                "client_id": "c1",
                "text": "About sizes",
                "delivery_id": delivery,
            }
            await sock.send(first)
            ack = await sock.expect("ack")
            await sock.send(first)  # a retry: the same ack, nothing published
            assert (await sock.expect("ack"))["duplicate"] is True
            marker = {"type": "message.send", "client_id": "c2", "text": "marker"}
            await sock.send({**marker, "conversation_id": ack["conversation_id"]})
            await sock.expect("ack")
            published = []
            async for envelope in envelopes:
                if envelope["t"] != "events" or envelope["conversation"]["id"] != ack["conversation_id"]:
                    continue
                texts = [f["message"]["text"] for f in envelope["frames"] if f["type"] == "message.created"]
                if texts == ["marker"]:
                    break
                published.append(texts)
            assert published == [["Hi! Can we help?", "About sizes", "Someone will answer soon."]]
            history = await admin.http.get(f"/api/v1/conversations/{ack['conversation_id']}/events")
            sent = [f["message"] for f in history.json()["events"] if "message" in f]
            # No made-up client ids: the server's own messages go by their ids.
            assert [m["client_id"] == m["id"] for m in sent if m["origin"] == "proactive"] == [True, True]
            await sock.close()
    finally:
        await admin.close()
