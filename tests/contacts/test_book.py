"""The contact base over HTTP: add (checked, normalised, duplicates caught), list
(search, filters, sorts, pages), change, tags by hand, and the history of changes."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from parley_client import VisitorClient
from server.sites.models import Site
from tests.harness import Stack
from tests.helpers import event_in, sign_in, signed_http, visitor, writer

pytestmark = pytest.mark.anyio


desk = signed_http  # a signed-in person's HTTP session (an agent unless ``role`` says)


def vid(client: VisitorClient) -> str:
    assert client.visitor is not None
    return str(client.visitor["id"])


def lisbon(stack: Stack) -> Site:
    return stack.create_site(contacts={"default_country": "PT"})


async def add(http: httpx.AsyncClient, site: Site, **fields: Any) -> dict[str, Any]:
    done = await http.post(f"/api/v1/sites/{site.key}/contacts", json=fields)
    assert done.status_code == 201, done.text
    contact: dict[str, Any] = done.json()["contact"]
    return contact


async def listed(http: httpx.AsyncClient, site: Site, **query: str) -> list[dict[str, Any]]:
    answer = await http.get(f"/api/v1/sites/{site.key}/contacts", params=query)
    assert answer.status_code == 200, answer.text
    contacts: list[dict[str, Any]] = answer.json()["contacts"]
    return contacts


async def test_an_added_contact_is_checked_and_normalised(stack: Stack) -> None:
    site = lisbon(stack)
    async with desk(stack) as http:
        made = await add(
            http, site, name="  Rita Lopes ", email="Rita@Example.COM", phone="912 345 678", tags=["lead"]
        )
        assert (made["name"], made["email"], made["phone"], made["tags"]) == (
            "Rita Lopes",
            "Rita@example.com",
            "+351912345678",  # E.164, in the site's default country
            ["lead"],
        )
        assert [c["id"] for c in await listed(http, site)] == [made["id"]]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"email": "rita@"}, "invalid_email", "email"),
        ({"email": "ana@shop.test"}, "invalid_email", "email"),  # a reserved name
        ({"phone": "12"}, "invalid_phone", "phone"),
        ({"phone": "+1 555"}, "invalid_phone", "phone"),
        ({"name": "  "}, "contact_empty", "name"),
        ({"name": "Rita", "tags": ["<b>"]}, "invalid_tag", "tag"),
        ({"name": "Rita", "colour": "red"}, "invalid_input", "colour"),
    ],
)
async def test_bad_contacts_are_refused_by_field(
    stack: Stack, fields: dict[str, Any], code: str, field: str
) -> None:
    site = lisbon(stack)
    async with desk(stack) as http:
        refused = await http.post(f"/api/v1/sites/{site.key}/contacts", json=fields)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == (code, field)
        assert await listed(http, site) == []


async def test_a_duplicate_email_or_phone_is_caught_with_a_link_to_the_contact(stack: Stack) -> None:
    site = lisbon(stack)
    async with desk(stack) as http:
        rita = await add(http, site, name="Rita", email="rita@example.com", phone="+351 912 345 678")
        for fields, field in [({"email": "RITA@example.com"}, "email"), ({"phone": "912345678"}, "phone")]:
            again = await http.post(
                f"/api/v1/sites/{site.key}/contacts", json={"name": "Rita again", **fields}
            )
            assert again.status_code == 409, again.text
            body = again.json()
            assert (body["code"], body["field"], body["contact_id"]) == ("contact_exists", field, rita["id"])
            assert body["url"] == f"/contacts/{rita['id']}"
        assert len(await listed(http, site)) == 1


async def test_visitors_who_write_or_identify_are_listed_and_browsers_are_not(stack: Stack) -> None:
    site = stack.create_site()
    browsing = await visitor(stack, site)
    wrote = await writer(stack, site, "Hello?")
    told = await visitor(stack, site)
    await told.identify(name="Tomás Told")
    try:
        async with desk(stack) as http:
            ids = {c["id"] for c in await listed(http, site)}
        assert ids == {vid(wrote), vid(told)}
        assert vid(browsing) not in ids
    finally:
        for client in (browsing, wrote, told):
            await client.close()


async def test_search_works_as_the_inbox_search_does(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack) as http:
        rita = await add(
            http, site, name="Rita Lopes", email="rlopes@kettle.example", phone="+351 912 345 678"
        )
        await add(http, site, name="João Sousa", email="joao@example.com")
        for query in ("rit", "lop", "RITA L", "lopes@kett", "912345", "912 345 678", "+351912"):
            assert [c["id"] for c in await listed(http, site, q=query)] == [rita["id"]], query
        assert await listed(http, site, q="ita") == []  # names match by word prefix


async def test_filters_sorts_and_pages(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack) as http:
        made = [await add(http, site, name=name, tags=tags) for name, tags in
                [("Carla", ["vip"]), ("Ana", []), ("Bea", ["vip", "lead"]), ("Dora", ["lead"])]]  # fmt: skip
        assert [c["name"] for c in await listed(http, site, sort="name", dir="asc")] == [
            "Ana",
            "Bea",
            "Carla",
            "Dora",
        ]
        assert [c["name"] for c in await listed(http, site, sort="created", dir="desc")] == [
            "Dora",
            "Bea",
            "Ana",
            "Carla",
        ]
        assert {c["name"] for c in await listed(http, site, tag="vip")} == {"Carla", "Bea"}
        seen: list[str] = []
        cursor = ""
        while True:
            query = {"sort": "name", "dir": "asc", "limit": "3", "cursor": cursor}
            page = (await http.get(f"/api/v1/sites/{site.key}/contacts", params=query)).json()
            seen += [c["name"] for c in page["contacts"]]
            if not page["next_cursor"]:
                break
            cursor = page["next_cursor"]
        assert seen == ["Ana", "Bea", "Carla", "Dora"]
        assert len(made) == 4
        bad = await http.get(f"/api/v1/sites/{site.key}/contacts", params={"cursor": "nope"})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
        bad = await http.get(f"/api/v1/sites/{site.key}/contacts", params={"sort": "age"})
        assert (bad.status_code, bad.json()["field"]) == (422, "sort")


async def test_has_an_open_conversation_filters_both_ways(stack: Stack) -> None:
    site = stack.create_site()
    wrote = await writer(stack, site, "Is the kettle in stock?", name="Olga Open")
    try:
        async with desk(stack) as http:
            await add(http, site, name="Quinn Quiet")
            assert [c["name"] for c in await listed(http, site, open="yes")] == ["Olga Open"]
            assert [c["name"] for c in await listed(http, site, open="no")] == ["Quinn Quiet"]
            # The reference client speaks for the mobile SDK channel.
            assert [c["name"] for c in await listed(http, site, channel="sdk")] == ["Olga Open"]
            assert await listed(http, site, channel="web") == []
    finally:
        await wrote.close()


async def test_tags_and_changes_by_hand_are_kept_in_the_history(stack: Stack) -> None:
    site = lisbon(stack)
    async with desk(stack) as http:
        me = (await http.get("/api/v1/me")).json()["user"]
        rita = await add(http, site, name="Rita")
        tagged = await http.post(f"/api/v1/contacts/{rita['id']}/tags", json={"add": ["vip", "lead"]})
        assert tagged.json() == {"tags": ["vip", "lead"]}
        untagged = await http.post(f"/api/v1/contacts/{rita['id']}/tags", json={"remove": ["lead"]})
        assert untagged.json() == {"tags": ["vip"]}
        changed = await http.patch(
            f"/api/v1/contacts/{rita['id']}", json={"name": "Rita Lopes", "phone": "912345678"}
        )
        assert changed.status_code == 200, changed.text
        page = changed.json()
        assert (page["contact"]["name"], page["contact"]["phone"]) == ("Rita Lopes", "+351912345678")
        history = [(h["field"], h["old"], h["new"], h["by"]["name"]) for h in page["history"]]
        # Newest first; the name and the phone changed in one request.
        assert set(history[:2]) == {
            ("name", "Rita", "Rita Lopes", me["name"]),
            ("phone", None, "+351912345678", me["name"]),
        }
        assert history[2:4] == [
            ("tags", ["vip", "lead"], ["vip"], me["name"]),
            ("tags", [], ["vip", "lead"], me["name"]),
        ]
        assert history[-1][0] == "created"


async def test_a_change_to_a_taken_email_is_refused(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack) as http:
        await add(http, site, name="Rita", email="rita@example.com")
        other = await add(http, site, name="Ana")
        refused = await http.patch(f"/api/v1/contacts/{other['id']}", json={"email": "rita@example.com"})
        assert (refused.status_code, refused.json()["code"]) == (409, "contact_exists")


async def test_a_contacts_page_lists_its_conversations_on_every_channel(stack: Stack) -> None:
    site = stack.create_site()
    wrote = await writer(stack, site, "Where is my order?", name="Paula Page")
    try:
        async with desk(stack) as http:
            page = (await http.get(f"/api/v1/contacts/{vid(wrote)}")).json()
        assert [(c["channel"]["kind"], c["preview"], c["status"]) for c in page["conversations"]] == [
            ("sdk", "Where is my order?", "open")
        ]
        assert page["contact"]["name"] == "Paula Page"
    finally:
        await wrote.close()


async def test_only_people_with_the_contacts_section_use_the_contact_base(stack: Stack) -> None:
    site = stack.create_site()
    async with httpx.AsyncClient(base_url=stack.agent_url) as anonymous:
        assert (await anonymous.get(f"/api/v1/sites/{site.key}/contacts")).status_code == 401
    async with desk(stack, role="admin") as admin:
        email, password = stack.create_agent()
        async with httpx.AsyncClient(base_url=stack.agent_url) as agent:
            who = await sign_in(agent, email, password)
            done = await admin.patch(
                f"/api/v1/users/{who['user']['id']}", json={"sections": ["conversations"]}
            )
            assert done.status_code == 200, done.text
            refused = await agent.post(
                f"/api/v1/sites/{site.key}/contacts", json={"name": f"X {secrets.token_hex(2)}"}
            )
            assert (refused.status_code, refused.json()["code"]) == (403, "section_forbidden")


async def chat(http: httpx.AsyncClient, contact_id: str, text: str, client_id: str) -> httpx.Response:
    return await http.post(f"/api/v1/contacts/{contact_id}/chat", json={"text": text, "client_id": client_id})


async def test_plus_chat_starts_a_conversation_once_per_client_id(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack) as http:
        me = (await http.get("/api/v1/me")).json()["user"]
        rita = await add(http, site, name="Rita", email="rita.chat@example.com")
        first = await chat(http, rita["id"], "Hi Rita, your kettle is back in stock.", "chat-1")
        assert first.status_code == 201, first.text
        again = await chat(http, rita["id"], "Hi Rita, your kettle is back in stock.", "chat-1")
        assert again.status_code == 200 and again.json()["duplicate"]
        assert again.json()["message_id"] == first.json()["message_id"]
        cid = first.json()["conversation_id"]
        events = (await http.get(f"/api/v1/conversations/{cid}/events")).json()["events"]
        said = [e["message"]["text"] for e in events if "message" in e]
        assert said == ["Hi Rita, your kettle is back in stock."]
        summary = (await http.get(f"/api/v1/conversations/{cid}")).json()
        assert (summary["status"], summary["assignee_id"]) == ("open", me["id"])


async def test_plus_chat_reopens_the_latest_conversation_and_takes_it(stack: Stack) -> None:
    site = stack.create_site()
    wrote = await writer(stack, site, "My order is late", name="Lena Late")
    try:
        async with desk(stack) as first_agent, desk(stack) as second:
            cid = (await first_agent.get("/api/v1/inbox")).json()["conversations"]
            cid = next(c["id"] for c in cid if c["visitor"]["name"] == "Lena Late")
            taken = await first_agent.patch(
                f"/api/v1/conversations/{cid}",
                json={"assignee_id": (await first_agent.get("/api/v1/me")).json()["user"]["id"]},
            )
            assert taken.status_code == 200, taken.text
            closed = await first_agent.patch(f"/api/v1/conversations/{cid}", json={"status": "closed"})
            assert closed.status_code == 200, closed.text
            answer = await chat(second, vid(wrote), "Following up: it ships today.", "follow-1")
            assert answer.status_code == 201, answer.text
            assert answer.json()["conversation_id"] == cid  # the same conversation, reopened
            summary = (await second.get(f"/api/v1/conversations/{cid}")).json()
            me = (await second.get("/api/v1/me")).json()["user"]
            assert (summary["status"], summary["assignee_id"]) == ("open", me["id"])
            got = await event_in(
                wrote, cid, "message.created", lambda f: f["message"]["author"]["type"] == "agent"
            )
            assert got["message"]["text"] == "Following up: it ships today."  # the visitor's socket hears it
    finally:
        await wrote.close()


async def test_upsert_and_send_finds_or_adds_the_contact_in_one_call(stack: Stack) -> None:
    site = lisbon(stack)
    async with desk(stack) as http:
        url = f"/api/v1/sites/{site.key}/chats"
        body = {
            "contact": {"email": "new.buyer@example.com", "name": "New Buyer"},
            "text": "Your order shipped.",
        }
        first = await http.post(url, json={**body, "client_id": "order-77-shipped"})
        assert first.status_code == 201, first.text
        repeat = await http.post(url, json={**body, "client_id": "order-77-shipped"})
        assert repeat.status_code == 200 and repeat.json()["duplicate"]
        later = await http.post(
            url, json={**body, "text": "It arrives tomorrow.", "client_id": "order-77-eta"}
        )
        assert later.json()["conversation_id"] == first.json()["conversation_id"]
        people = await listed(http, site, q="new.buyer@")
        assert [p["name"] for p in people] == ["New Buyer"]
        bad = await http.post(url, json={**body, "contact": {"phone": "12"}, "client_id": "x"})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_phone")
