"""Bots in real conversations: greeting surveys, collecting and handing off, waits,
restarts mid-flow, asking for a person, agents taking over, proactive bot messages,
and the admin API's validation and preview."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from parley_client import AgentClient
from server.sites.models import Site
from tests.bots.test_flows import ORDER_HELP
from tests.harness import Stack
from tests.helpers import bus_tap, event_in, hello, raw_visitor, sign_in, visitor

pytestmark = pytest.mark.anyio


class Builder:
    """An admin's HTTP session for bot answers and inbox settings."""

    def __init__(self, stack: Stack, http: httpx.AsyncClient) -> None:
        self.stack = stack
        self.http = http

    async def answer(self, site: Site, flow: dict[str, Any], name: str = "Order help") -> str:
        made = await self.http.post(f"/api/v1/sites/{site.key}/bot-answers", json={"name": name})
        assert made.status_code == 201, made.text
        answer_id = str(made.json()["id"])
        saved = await self.http.patch(
            f"/api/v1/bot-answers/{answer_id}",
            json={"flow": flow, "bot_name": "Kettle bot", "published": True},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["version"] == 1
        return answer_id

    async def inbox(self, site: Site, **settings: Any) -> None:
        done = await self.http.patch(f"/api/v1/sites/{site.key}/inbox-settings", json=settings)
        assert done.status_code == 200, done.text


@pytest.fixture
async def builder(stack: Stack) -> AsyncIterator[Builder]:
    email, password = stack.create_agent(role="admin")
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        await sign_in(http, email, password)
        yield Builder(stack, http)


async def _bot_says(client: Any, cid: str, count: int) -> list[dict[str, Any]]:
    said = []
    while len(said) < count:
        frame = await event_in(
            client, cid, "message.created", lambda f: f["message"]["author"]["type"] == "bot"
        )
        assert frame["message"]["origin"] == "bot"
        said.append(frame["message"])
    return said


async def _agent(stack: Stack) -> AgentClient:
    email, password = stack.create_agent()
    client = AgentClient(stack.agent_url, email, password)
    await client.connect()
    return client


async def test_a_greeting_bot_collects_tags_and_hands_off_with_what_it_learnt(
    stack: Stack, builder: Builder
) -> None:
    site = stack.create_site()
    answer = await builder.answer(site, ORDER_HELP)
    await builder.inbox(site, greeting_bot=answer, greeting="(not used: the bot greets)")
    alice = await visitor(stack, site)
    desk = await _agent(stack)
    try:
        cid = (await alice.send("hello"))["conversation_id"]
        hi, menu = await _bot_says(alice, cid, 2)
        assert hi["author"]["name"] == "Kettle bot" and hi["text"] == "Hi! I am the order bot."
        assert menu["buttons"] == ["Track my order", "Returns"]
        # The agents see it, quietly: a bot is answering, so no marker and no badge.
        async with httpx.AsyncClient(
            base_url=stack.agent_url, cookies={"parley_session": desk.session or ""}
        ) as http:
            row = next(c for c in (await http.get("/api/v1/inbox")).json()["conversations"] if c["id"] == cid)
            assert row["bot_active"] and not row["unread"] and not row["unanswered"]

            await alice.send("Returns", cid)  # the button's label, as the widget sends it
            (ask,) = await _bot_says(alice, cid, 1)
            assert ask["text"] == "Order number?"
            await alice.send("A-1042", cid)
            (bye,) = await _bot_says(alice, cid, 1)
            assert bye["text"] == "Connecting you to a person…"
            handed = await event_in(desk, cid, "conversation.updated", lambda f: bool(f.get("handoff")))
            assert handed["tags"] == ["handoff"] and handed["by"]["name"] == "Kettle bot"

            # Now it waits for an agent, who sees the bot's part and what it collected.
            row = next(c for c in (await http.get("/api/v1/inbox")).json()["conversations"] if c["id"] == cid)
            assert not row["bot_active"] and row["unanswered"] and row["tags"] == ["handoff"]
            contact = (await http.get(f"/api/v1/conversations/{cid}/contact")).json()
            assert contact["visitor"]["attributes"]["order"] == "A-1042"
            # The bot's tags are the contact's too, and its history says the bot put them.
            assert alice.visitor is not None
            page_of = (await http.get(f"/api/v1/contacts/{alice.visitor['id']}")).json()
            assert page_of["contact"]["tags"] == ["handoff"]
            assert (page_of["history"][0]["field"], page_of["history"][0]["by"]) == (
                "tags",
                {"type": "bot", "id": answer, "name": "Kettle bot"},
            )
        page = await desk.history_page(cid)
        texts = [
            (e["message"]["author"]["type"], e["message"]["text"]) for e in page["events"] if "message" in e
        ]
        assert texts[:3] == [
            ("visitor", "hello"),
            ("bot", "Hi! I am the order bot."),
            ("bot", "What do you need?"),
        ]
        # The text greeting was not sent: the bot greeted instead.
        assert "(not used: the bot greets)" not in [t for _, t in texts]
    finally:
        await alice.close()
        await desk.close()


async def test_a_flow_resumes_after_a_restart_and_its_wait_ends_on_time(
    stack: Stack, builder: Builder
) -> None:
    site = stack.create_site()
    flow = copy.deepcopy(ORDER_HELP)
    flow["steps"]["pause"]["seconds"] = 2
    answer = await builder.answer(site, flow)
    await builder.inbox(site, greeting_bot=answer)
    alice = await visitor(stack, site)
    try:
        cid = (await alice.send("hi"))["conversation_id"]
        await _bot_says(alice, cid, 2)
        await alice.send("track it please", cid)
        (ask,) = await _bot_says(alice, cid, 1)
        assert ask["text"] == "Your email?"
        for server in stack.servers:  # mid-flow: the run is in the database
            server.restart()
        await alice.send("not an email", cid)
        (again,) = await _bot_says(alice, cid, 1)
        assert again["text"].startswith("That is not an email address")
        await alice.send("rita@example.com", cid)
        # set, branch and a two-second wait that the server keeps; then the end.
        (bye,) = await _bot_says(alice, cid, 1)
        assert bye["text"] == "Your order ships tomorrow. Bye!"
        row = (await builder.http.get(f"/api/v1/conversations/{cid}")).json()
        assert row["tags"] == ["order-help"] and not row["bot_active"]
        contact = (await builder.http.get(f"/api/v1/conversations/{cid}/contact")).json()
        assert contact["visitor"]["email"] == "rita@example.com"
        assert contact["visitor"]["attributes"]["topic"] == "tracking"
    finally:
        await alice.close()


async def test_asking_for_a_human_and_an_agent_taking_over(stack: Stack, builder: Builder) -> None:
    site = stack.create_site()
    answer = await builder.answer(site, ORDER_HELP)
    await builder.inbox(site, greeting_bot=answer)
    desk = await _agent(stack)
    rita = await visitor(stack, site)
    bruno = await visitor(stack, site)
    try:
        cid = (await rita.send("hello"))["conversation_id"]
        await _bot_says(rita, cid, 2)
        await rita.send("Quero falar com um atendente", cid)
        (handoff,) = await _bot_says(rita, cid, 1)
        assert handoff["text"] == "Connecting you to a person…"

        other = (await bruno.send("hello"))["conversation_id"]
        await _bot_says(bruno, other, 2)
        await desk.send("Hi, I am Ana; I can help directly.", other)
        await event_in(bruno, other, "message.created", lambda f: f["message"]["author"]["type"] == "agent")
        await bruno.send("Track my order", other)  # the bot stays quiet now
        with pytest.raises(TimeoutError):
            await event_in(
                bruno,
                other,
                "message.created",
                lambda f: f["message"]["author"]["type"] == "bot",
                timeout=1.5,
            )
    finally:
        for client in (desk, rita, bruno):
            await client.close()


async def test_a_proactive_bot_message_starts_its_answer(stack: Stack, builder: Builder) -> None:
    from tests.proactive.helpers import Admin

    site = stack.create_site()
    answer = await builder.answer(site, ORDER_HELP)
    admin = await Admin.login(stack)
    try:
        await admin.live(site, text="Need help with an order?", response="bot", bot_answer_id=answer)
        sock = await raw_visitor(stack, site)
        await hello(sock, site, page={"url": "https://shop.example/", "title": "Home"})
        delivery = (await sock.expect("proactive.show"))["delivery_id"]
        await sock.send({"type": "message.send", "client_id": "p1", "text": "yes", "delivery_id": delivery})
        texts = []
        while len(texts) < 4:
            frame = await sock.expect("message.created")
            texts.append((frame["message"]["author"]["type"], frame["message"]["text"]))
        assert texts == [
            ("system", "Need help with an order?"),
            ("visitor", "yes"),
            ("bot", "Hi! I am the order bot."),
            ("bot", "What do you need?"),
        ]
        await sock.close()
        # Unpublishing the answer turns the proactive message to has-errors.
        done = await builder.http.patch(f"/api/v1/bot-answers/{answer}", json={"published": False})
        assert len(done.json()["messages_with_errors"]) == 1
    finally:
        await admin.close()


async def test_a_bot_message_that_also_asks_for_an_email_never_leaves_the_visitor_stuck(
    stack: Stack, builder: Builder
) -> None:
    """The widget shows no form for a bot response, so the visitor's first message
    starts the bot; it used to be refused with details_required for ever."""
    from tests.proactive.helpers import Admin

    site = stack.create_site()
    answer = await builder.answer(site, ORDER_HELP)
    admin = await Admin.login(stack)
    try:
        await admin.live(site, text="Order trouble?", response="bot", bot_answer_id=answer, collect=["email"])
        sock = await raw_visitor(stack, site)
        await hello(sock, site, page={"url": "https://shop.example/", "title": "Home"})
        show = await sock.expect("proactive.show")
        assert show["collect"] == []
        await sock.send(
            {"type": "message.send", "client_id": "b1", "text": "yes", "delivery_id": show["delivery_id"]}
        )
        assert (await sock.expect(lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
        bot = await sock.expect(
            lambda f: f["type"] == "message.created" and f["message"]["author"]["type"] == "bot"
        )
        assert bot["message"]["text"] == "Hi! I am the order bot."
        await sock.close()
    finally:
        await admin.close()


async def test_the_api_validates_flows_and_previews_them(stack: Stack, builder: Builder) -> None:
    site = stack.create_site()
    answer = await builder.answer(site, ORDER_HELP)
    broken = copy.deepcopy(ORDER_HELP)
    broken["steps"]["hello"]["next"] = "nowhere"
    refused = await builder.http.patch(f"/api/v1/bot-answers/{answer}", json={"flow": broken})
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["where"]) == ("invalid_flow", "steps.hello.next")
    # Preview: the draft, run as a visitor would, storing nothing.
    first = (await builder.http.post(f"/api/v1/bot-answers/{answer}/preview", json={})).json()
    assert [s["text"] for s in first["say"]] == ["Hi! I am the order bot.", "What do you need?"]
    second = (
        await builder.http.post(
            f"/api/v1/bot-answers/{answer}/preview", json={"state": first["state"], "text": "where is it"}
        )
    ).json()
    assert second["say"] == [{"text": "Your email?"}] and second["status"] == "waiting_input"
    # Published versions stay: a new draft does not change the running version until published.
    edited = copy.deepcopy(ORDER_HELP)
    edited["steps"]["hello"]["text"] = "Hello again!"
    saved = (await builder.http.patch(f"/api/v1/bot-answers/{answer}", json={"flow": edited})).json()
    assert saved["version"] == 1 and saved["draft"]["steps"]["hello"]["text"] == "Hello again!"
    republished = (await builder.http.patch(f"/api/v1/bot-answers/{answer}", json={"published": True})).json()
    assert republished["version"] == 2


AWAY: dict[str, Any] = {
    "start": "ask",
    "steps": {
        "ask": {
            "type": "collect",
            "field": "email",
            "text": "We are closed now. Leave your email and we will write back.",
            "invalid_text": "Please type an email address.",
            "next": "thanks",
        },
        "thanks": {"type": "end", "text": "Thanks! We will email you tomorrow."},
    },
}


async def test_outside_hours_the_away_bot_collects_an_email(stack: Stack, builder: Builder) -> None:
    from tests.conversations.test_workspace import _closed_now_hours

    site = stack.create_site(proactive={"business_hours": _closed_now_hours()})
    away = await builder.answer(site, AWAY, name="Away")
    unknown = await builder.http.patch(
        f"/api/v1/sites/{site.key}/inbox-settings", json={"away_bot": "ans_nope"}
    )
    assert (unknown.status_code, unknown.json()["field"]) == (422, "away_bot")
    await builder.inbox(site, away_bot=away, away="(not used: the away bot answers)")
    alice = await visitor(stack, site)
    try:
        cid = (await alice.send("Anyone there?"))["conversation_id"]
        (ask,) = await _bot_says(alice, cid, 1)
        assert ask["text"].startswith("We are closed now.")
        await alice.send("later@example.com", cid)
        (thanks,) = await _bot_says(alice, cid, 1)
        assert thanks["text"] == "Thanks! We will email you tomorrow."
        contact = (await builder.http.get(f"/api/v1/conversations/{cid}/contact")).json()
        assert contact["visitor"]["email"] == "later@example.com"
        row = (await builder.http.get(f"/api/v1/conversations/{cid}")).json()
        assert not row["bot_active"]  # ended: now it waits for agents, with the email to answer
    finally:
        await alice.close()


async def test_deleting_an_answer_mid_flow_stops_it_and_breaks_its_messages(
    stack: Stack, builder: Builder
) -> None:
    from tests.proactive.helpers import Admin

    site = stack.create_site()
    answer = await builder.answer(site, ORDER_HELP)
    await builder.inbox(site, greeting_bot=answer)
    admin = await Admin.login(stack)
    alice = await visitor(stack, site)
    try:
        msg = await admin.live(site, text="Order trouble?", response="bot", bot_answer_id=answer)
        cid = (await alice.send("hello"))["conversation_id"]
        await _bot_says(alice, cid, 2)
        gone = await builder.http.delete(f"/api/v1/bot-answers/{answer}")
        assert gone.json()["messages_with_errors"] == [msg["id"]]
        found = await admin.message(msg["id"])
        assert found["status"] == "error" and "was deleted" in found["error_reason"]
        await alice.send("Returns", cid)
        with pytest.raises(TimeoutError):
            await event_in(
                alice, cid, "message.created", lambda f: f["message"]["author"]["type"] == "bot", timeout=1
            )
        row = (await builder.http.get(f"/api/v1/conversations/{cid}")).json()
        assert not row["bot_active"]
    finally:
        await alice.close()
        await admin.close()


async def test_deleting_an_answer_tells_the_other_processes_once(processes: Stack) -> None:
    """Read off Redis, where the processes meet; it used to publish twice."""
    stack = processes
    email, password = stack.create_agent(role="admin")
    http = httpx.AsyncClient(base_url=stack.agent_url)
    await sign_in(http, email, password)
    builder = Builder(stack, http)
    doomed, marker = stack.create_site(), stack.create_site()
    first = await builder.answer(doomed, ORDER_HELP)
    other = await builder.answer(marker, ORDER_HELP)
    try:
        async with bus_tap(stack) as published:
            assert (await builder.http.delete(f"/api/v1/bot-answers/{first}")).status_code == 200
            # A change on another site, after it: everything before it is what the delete published.
            assert (
                await builder.http.patch(f"/api/v1/bot-answers/{other}", json={"name": "x"})
            ).status_code == 200
            changed = []
            async for envelope in published:
                if envelope["t"] == "proactive.changed":
                    changed.append(envelope["site_id"])
                    if envelope["site_id"] == marker.id:
                        break
            assert changed == [doomed.id, marker.id]
    finally:
        await http.aclose()
