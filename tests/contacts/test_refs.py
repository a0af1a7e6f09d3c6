"""Link references through the real server: a landing page's ?ref= and utm_* and the
host site's ``set`` are kept on the contact (first and latest) and on the conversation
it starts, shown in the inbox row, the contact panel and the contact's page, and read
by proactive rules and bot branches."""

from __future__ import annotations

from typing import Any

import pytest

from server.sites.models import Site
from tests.bots.test_runtime import Builder, _bot_says
from tests.contacts.test_book import desk
from tests.harness import Stack
from tests.helpers import visitor
from tests.proactive.helpers import Admin
from tests.proactive.test_delivery import arrive

pytestmark = pytest.mark.anyio

SPRING = {"url": "https://shop.example/?ref=spring&utm_source=news&utm_campaign=may", "title": "Home"}


async def test_a_landing_link_is_the_contacts_first_and_latest_and_its_conversations(stack: Stack) -> None:
    site = stack.create_site()
    rita = await visitor(stack, site, page=SPRING, kind="web")
    try:
        cid = (await rita.send("Hi, I saw your newsletter"))["conversation_id"]
        await rita.set_attributes(ref="partner-blog")  # the host site says where she is from now
        await rita.identify(name="Rita")
        await rita.next_event("visitor.identified")
        assert rita.visitor is not None
        async with desk(stack) as http:
            page = (await http.get(f"/api/v1/contacts/{rita.visitor['id']}")).json()
            first, latest = page["contact"]["first_ref"], page["contact"]["latest_ref"]
            assert (first["ref"], first["utm"], first["via"]) == (
                "spring",
                {"source": "news", "campaign": "may"},
                "link",
            )
            assert (latest["ref"], latest["via"], latest["url"]) == ("partner-blog", "set", None)
            assert "ref" not in page["contact"]["attributes"]
            assert [c["ref"] for c in page["conversations"]] == ["spring"]
            row = next(c for c in (await http.get("/api/v1/inbox")).json()["conversations"] if c["id"] == cid)
            assert row["ref"] == "spring"
            panel = (await http.get(f"/api/v1/conversations/{cid}/contact")).json()
            assert panel["refs"]["conversation"]["ref"] == "spring"
            assert (panel["refs"]["first"]["ref"], panel["refs"]["latest"]["ref"]) == (
                "spring",
                "partner-blog",
            )
    finally:
        await rita.close()


async def test_a_campaign_without_a_word_is_known_by_its_campaign(stack: Stack) -> None:
    site = stack.create_site()
    bo = await visitor(
        stack, site, page={"url": "https://shop.example/?utm_source=ads&utm_campaign=black-friday"}
    )
    try:
        cid = (await bo.send("Hello"))["conversation_id"]
        async with desk(stack) as http:
            row = next(c for c in (await http.get("/api/v1/inbox")).json()["conversations"] if c["id"] == cid)
            assert row["ref"] == "black-friday"
    finally:
        await bo.close()


async def test_a_page_without_a_reference_leaves_none(stack: Stack) -> None:
    site = stack.create_site()
    cy = await visitor(stack, site, page={"url": "https://shop.example/?page=2"})
    try:
        cid = (await cy.send("Hello"))["conversation_id"]
        await cy.set_attributes(ref="\u0007bell")
        error = await cy.next_error()
        assert (error["code"], error["field"]) == ("invalid_ref", "ref")
        async with desk(stack) as http:
            row = next(c for c in (await http.get("/api/v1/inbox")).json()["conversations"] if c["id"] == cid)
            assert "ref" not in row
            panel = (await http.get(f"/api/v1/conversations/{cid}/contact")).json()
            assert panel["refs"] == {"conversation": None, "first": None, "latest": None}
    finally:
        await cy.close()


async def test_a_proactive_rule_reads_the_contacts_reference(stack: Stack, site_for_rules: Site) -> None:
    sock, _ = await arrive(stack, site_for_rules, SPRING)
    assert (await sock.expect("proactive.show"))["text"] == "Spring sale: 20% off"
    await sock.close()
    other, _ = await arrive(stack, site_for_rules, {"url": "https://shop.example/?ref=autumn"})
    await other.send({"type": "ping", "ts": 1})
    assert (await other.expect(lambda f: f["type"] in ("pong", "proactive.show")))["type"] == "pong"
    await other.close()


@pytest.fixture
async def site_for_rules(stack: Stack) -> Any:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(
            site,
            text="Spring sale: 20% off",
            conditions={"all": [{"field": "contact.ref", "op": "is", "value": "spring"}]},
        )
    finally:
        await admin.close()
    return site


ROUTER: dict[str, Any] = {
    "start": "where",
    "steps": {
        "where": {
            "type": "branch",
            "cases": [{"when": {"field": "conversation.ref", "op": "is", "value": "spring"}, "next": "sale"}],
            "else": "hello",
        },
        "sale": {"type": "end", "text": "Welcome, spring shopper!"},
        "hello": {"type": "end", "text": "Hello!"},
    },
}


async def test_a_bot_branches_on_the_conversations_reference(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack, "admin") as http:
        builder = Builder(stack, http)
        await builder.inbox(site, greeting_bot=await builder.answer(site, ROUTER, name="Router"))
    for page, said in ((SPRING, "Welcome, spring shopper!"), ({"url": "https://shop.example/"}, "Hello!")):
        client = await visitor(stack, site, page=page)
        try:
            cid = (await client.send("hi"))["conversation_id"]
            (answer,) = await _bot_says(client, cid, 1)
            assert answer["text"] == said
        finally:
            await client.close()
