"""What a visitor reports over the socket: page views, events, attributes and identity."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parley_client import Socket
from server.contacts.store import user_hash
from server.sites.models import Site
from tests.harness import Stack
from tests.helpers import agent, event_in, hello, raw_visitor, sign_in

pytestmark = pytest.mark.anyio


async def _profile(stack: Stack, visitor_id: str) -> Any:
    email, password = stack.create_agent()
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        await sign_in(http, email, password)
        return (await http.get(f"/api/v1/visitors/{visitor_id}")).json()


async def _visitor(stack: Stack, site: Site, **fields: Any) -> tuple[Socket, dict[str, Any]]:
    sock = await raw_visitor(stack, site)
    welcome = await hello(sock, site, **fields)
    assert welcome["type"] == "welcome", welcome
    return sock, welcome


async def _quiet(sock: Socket) -> None:
    """A round trip: everything sent before has been handled."""
    await sock.send({"type": "ping", "ts": 1})
    await sock.expect("pong")


async def test_page_views_events_and_attributes_are_kept(stack: Stack) -> None:
    site = stack.create_site()
    sock, welcome = await _visitor(stack, site, page={"url": "https://s.example/", "title": "Home"})
    assert welcome["widget"]["color"] == "#2563eb"
    assert welcome["visitor"]["user_id"] is None and welcome["visitor"]["verified"] is False
    await sock.send({"type": "page.view", "page": {"url": "https://s.example/pricing", "title": "Pricing"}})
    await sock.send({"type": "event.track", "name": "added_to_cart", "props": {"sku": "k-1", "qty": 2}})
    await sock.send({"type": "visitor.set", "attributes": {"plan": "pro", "trial": True, "mrr": 49.5}})
    await sock.send({"type": "visitor.set", "attributes": {"trial": None}})
    await _quiet(sock)
    found = await _profile(stack, welcome["visitor"]["id"])
    assert [p["url"] for p in found["page_views"]] == ["https://s.example/pricing", "https://s.example/"]
    assert found["events"][0]["name"] == "added_to_cart" and found["events"][0]["props"] == {
        "sku": "k-1",
        "qty": 2,
    }
    assert found["attributes"] == {"plan": "pro", "mrr": 49.5}
    await sock.close()


async def test_bad_reports_are_refused_with_their_codes(stack: Stack) -> None:
    site = stack.create_site()
    sock, welcome = await _visitor(stack, site)
    for frame, code in [
        ({"type": "page.view", "page": {"url": "x" * 2049}}, "invalid_frame"),
        ({"type": "event.track", "name": ""}, "invalid_frame"),
        ({"type": "event.track", "name": "e", "props": {"nested": {"a": 1}}}, "invalid_frame"),
        ({"type": "visitor.set", "attributes": {}}, "invalid_frame"),
        ({"type": "visitor.set", "attributes": {"bad key": 1}}, "invalid_frame"),
        ({"type": "visitor.set", "attributes": {"k": "v" * 256}}, "invalid_frame"),
        ({"type": "visitor.identify", "email": "not-an-address"}, "invalid_email"),
        ({"type": "visitor.identify", "user_id": "u1", "user_hash": "f" * 64}, "identity_unverified"),
    ]:
        await sock.send(frame)
        error = await sock.expect("error")
        assert error["code"] == code, (frame, error)
    for batch in range(2):
        await sock.send(
            {"type": "visitor.set", "attributes": {f"a{batch}_{i}": i for i in range(50)}},
        )
    await sock.send({"type": "visitor.set", "attributes": {"one_too_many": 1}})
    error = await sock.expect("error")
    assert (error["code"], error["limit"]) == ("too_many_attributes", 100)
    found = await _profile(stack, welcome["visitor"]["id"])
    assert len(found["attributes"]) == 100 and found["email"] is None and found["user_id"] is None
    await sock.close()


async def test_identify_merges_only_verified_users(stack: Stack) -> None:
    site = stack.create_site()
    good = user_hash(site.identity_secret, "u-9")

    laptop, first = await _visitor(stack, site)
    await laptop.send({"type": "message.send", "client_id": "m1", "text": "from the laptop"})
    await laptop.expect("ack")
    await laptop.send({"type": "visitor.identify", "user_id": "u-9", "user_hash": good, "name": "Rui"})
    done = await laptop.expect("visitor.identified")
    assert done["merged"] is False and done["visitor"]["verified"] is True and "token" not in done

    # Unverified in another browser: kept there, never merged into the verified contact.
    guess, second = await _visitor(stack, site)
    await guess.send({"type": "visitor.identify", "user_id": "u-9"})
    done = await guess.expect("visitor.identified")
    assert done["merged"] is False and done["visitor"]["id"] == second["visitor"]["id"]
    assert done["visitor"]["verified"] is False

    # Verified in a third browser: it becomes the contact, with a token to reconnect with.
    phone, _ = await _visitor(stack, site)
    await phone.send({"type": "visitor.identify", "user_id": "u-9", "user_hash": good.upper()})
    done = await phone.expect("visitor.identified")
    assert done["merged"] is True and done["visitor"]["id"] == first["visitor"]["id"]
    again, welcome = await _visitor(stack, site, token=done["token"])
    assert welcome["visitor"]["id"] == first["visitor"]["id"]
    assert welcome["visitor"]["name"] == "Rui"
    assert len(welcome["conversations"]) == 1

    # A verified visitor cannot be renamed to another user id without a hash.
    await laptop.send({"type": "visitor.identify", "user_id": "u-10"})
    assert (await laptop.expect("error"))["code"] == "identity_unverified"
    for sock in (laptop, guess, phone, again):
        await sock.close()


async def test_a_merge_tells_open_sockets_where_the_conversation_went(stack: Stack) -> None:
    site = stack.create_site()
    good = user_hash(site.identity_secret, "u-7")
    laptop, first = await _visitor(stack, site)
    await laptop.send({"type": "visitor.identify", "user_id": "u-7", "user_hash": good})
    await laptop.expect("visitor.identified")
    ana = await agent(stack)
    phone, _ = await _visitor(stack, site)
    await phone.send({"type": "message.send", "client_id": "m1", "text": "from the phone"})
    conversation_id = (await phone.expect("ack"))["conversation_id"]
    await phone.send({"type": "visitor.identify", "user_id": "u-7", "user_hash": good})
    assert (await phone.expect("visitor.identified"))["merged"] is True

    moved = await event_in(ana, conversation_id, "conversation.updated")
    assert moved["visitor_id"] == first["visitor"]["id"] and moved["status"] == "open"
    # The contact's other browser hears of its conversation at once.
    told = await laptop.expect(lambda f: f.get("conversation_id") == conversation_id)
    assert told["type"] == "conversation.updated" and told["seq"] == moved["seq"]
    for sock in (laptop, phone):
        await sock.close()
    await ana.close()


async def test_a_site_that_requires_verification_refuses_unsigned_user_ids(stack: Stack) -> None:
    site = stack.create_site(widget={"require_identity": True})
    sock, welcome = await _visitor(stack, site)
    await sock.send({"type": "visitor.identify", "user_id": "u-1", "name": "Eve", "email": "eve@example.com"})
    error = await sock.expect("error")
    assert error["code"] == "identity_unverified" and error["ref"] == "visitor.identify"
    # Name and email alone need no verification: the visitor typed them.
    await sock.send({"type": "visitor.identify", "name": "Eve", "email": "eve@example.com"})
    assert (await sock.expect("visitor.identified"))["visitor"]["user_id"] is None
    found = await _profile(stack, welcome["visitor"]["id"])
    assert (found["user_id"], found["name"], found["email"]) == (None, "Eve", "eve@example.com")
    await sock.close()
