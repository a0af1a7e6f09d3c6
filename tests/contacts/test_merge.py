"""Two contacts merged into one: values chosen field by field, tags and attributes of
both, conversations and visits moved (live sockets told), history kept, refusals named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.sites.models import Site
from tests.harness import Stack
from tests.helpers import agent, event_in, signed_http, visitor, writer

pytestmark = pytest.mark.anyio


desk = signed_http


async def add(http: httpx.AsyncClient, site: Site, **fields: Any) -> str:
    made = await http.post(f"/api/v1/sites/{site.key}/contacts", json=fields)
    assert made.status_code == 201, made.text
    return str(made.json()["contact"]["id"])


async def test_fields_are_chosen_one_by_one_and_the_rest_joins(stack: Stack) -> None:
    site = stack.create_site()
    async with desk(stack) as http:
        keep = await add(http, site, name="R. Lopes", email="rita@work.example", tags=["vip"],
                         attributes={"plan": "pro"})  # fmt: skip
        other = await add(http, site, name="Rita Lopes", phone="+351 912 345 678", tags=["lead"],
                          attributes={"plan": "trial", "city": "Lisbon"})  # fmt: skip
        done = await http.post(
            f"/api/v1/contacts/{keep}/merge", json={"from": other, "keep": {"name": "source"}}
        )
        assert done.status_code == 200, done.text
        contact = done.json()["contact"]
        assert (contact["name"], contact["email"], contact["phone"]) == (
            "Rita Lopes",  # chosen from the other
            "rita@work.example",  # this one's
            "+351912345678",  # this one had none
        )
        assert contact["tags"] == ["vip", "lead"]
        assert contact["attributes"] == {"plan": "pro", "city": "Lisbon"}  # this one's plan wins
        merged = next(h for h in done.json()["history"] if h["field"] == "merged")
        assert merged["old"]["id"] == other and merged["old"]["name"] == "Rita Lopes"
        gone = await http.get(f"/api/v1/contacts/{other}")
        assert (gone.status_code, gone.json()["code"]) == (404, "visitor_not_found")
        found = (await http.get(f"/api/v1/sites/{site.key}/contacts", params={"q": "912345678"})).json()
        assert [c["id"] for c in found["contacts"]] == [keep]  # the search knows the merged phone


async def test_conversations_move_and_open_sockets_are_told(stack: Stack) -> None:
    site = stack.create_site()
    wrote = await writer(stack, site, "Where is my kettle?", name="Tomás Two")
    desk_socket = await agent(stack)
    try:
        assert wrote.visitor is not None
        source = str(wrote.visitor["id"])
        cid = (await wrote.next_event("message.created"))["conversation_id"]
        async with desk(stack) as http:
            target = await add(http, site, name="Tomás Two", email="tomas@example.com")
            done = await http.post(f"/api/v1/contacts/{target}/merge", json={"from": source})
            assert done.status_code == 200, done.text
            assert [c["id"] for c in done.json()["conversations"]] == [cid]
            told = await event_in(
                desk_socket, cid, "conversation.updated", lambda f: f.get("visitor_id") == target
            )
            assert told["visitor_id"] == target
    finally:
        await wrote.close()
        await desk_socket.close()


async def test_merging_is_refused_when_it_cannot_be_done(stack: Stack) -> None:
    site = stack.create_site()
    first = await writer(stack, site, "One", name="Open One")
    second = await writer(stack, site, "Two", name="Open Two")
    try:
        assert first.visitor is not None and second.visitor is not None
        a, b = str(first.visitor["id"]), str(second.visitor["id"])
        async with desk(stack) as http:
            both_open = await http.post(f"/api/v1/contacts/{a}/merge", json={"from": b})
            assert (both_open.status_code, both_open.json()["code"]) == (409, "merge_both_open")
            itself = await http.post(f"/api/v1/contacts/{a}/merge", json={"from": a})
            assert (itself.status_code, itself.json()["code"]) == (422, "invalid_merge")
            bad_keep = await http.post(
                f"/api/v1/contacts/{a}/merge", json={"from": b, "keep": {"name": "both"}}
            )
            assert (bad_keep.status_code, bad_keep.json()["field"]) == (422, "keep")
            other_site = await add(http, stack.create_site(), name="Elsewhere")
            far = await http.post(f"/api/v1/contacts/{a}/merge", json={"from": other_site})
            assert (far.status_code, far.json()["code"]) == (404, "visitor_not_found")
    finally:
        await first.close()
        await second.close()


async def test_identify_merges_a_browser_into_its_contact_by_the_same_steps(stack: Stack) -> None:
    from server.contacts.store import user_hash

    site = stack.create_site()
    good = user_hash(site.identity_secret, "u-42")
    laptop = await visitor(stack, site)
    phone = await visitor(stack, site, page={"url": "https://shop.example/?ref=ad"})
    try:
        await laptop.identify(user_id="u-42", user_hash=good, name="Rui")
        await laptop.next_event("visitor.identified")
        assert laptop.visitor is not None and phone.visitor is not None
        contact, browser = laptop.visitor["id"], phone.visitor["id"]
        async with desk(stack) as http:
            tagged = await http.post(f"/api/v1/contacts/{contact}/tags", json={"add": ["vip"]})
            assert tagged.status_code == 200
        await phone.set_attributes(plan="pro")
        cid = (await phone.send("Is my order on its way?"))["conversation_id"]
        await phone.identify(user_id="u-42", user_hash=good)
        done = await phone.next_event("visitor.identified")
        assert done["merged"] is True and done["visitor"]["id"] == contact
        async with desk(stack) as http:
            page = (await http.get(f"/api/v1/contacts/{contact}")).json()
            assert [c["id"] for c in page["conversations"]] == [cid]
            assert (page["contact"]["name"], page["contact"]["tags"]) == ("Rui", ["vip"])
            assert page["contact"]["attributes"] == {"plan": "pro"}  # the browser's, joined
            assert page["contact"]["latest_ref"]["ref"] == "ad"
            assert page["contact"]["visit_count"] == 2  # the browser's visit came along
            merged = next(h for h in page["history"] if h["field"] == "merged")
            assert (merged["by"]["type"], merged["old"]["id"]) == ("visitor", browser)
            # Off the list, emptied: the browser is no second contact.
            listed = (await http.get(f"/api/v1/sites/{site.key}/contacts")).json()["contacts"]
            assert [c["id"] for c in listed] == [contact]
            left = (await http.get(f"/api/v1/contacts/{browser}")).json()["contact"]
            assert (left["name"], left["tags"], left["attributes"], left["listed_at"]) == (None, [], {}, None)
    finally:
        await laptop.close()
        await phone.close()
