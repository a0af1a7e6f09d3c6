"""A contact's data, downloaded and erased: the erasure leaves nothing personal in the
database (searched for the contact's email, phone and name), keeps the counts, and is
recorded without personal data; agents can do neither."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

import server.models
from tests.harness import Stack
from tests.helpers import agent, event_in, signed_http, writer

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Erin:
    """A person with a name, an email and a phone of her own (another test's Erin would be
    found by the search of the whole database)."""

    name: str
    email: str
    phone: str  # as she typed it
    digits: str

    @classmethod
    def new(cls) -> Erin:
        tag = secrets.token_hex(3)
        digits = "91" + f"{secrets.randbelow(10**7):07d}"
        return cls(f"Erin Erasable{tag}", f"erin.erasable.{tag}@example.com",
                   f"+351 {digits[:3]} {digits[3:6]} {digits[6:]}", digits)  # fmt: skip


def person(stack: Stack, role: str = "admin") -> Any:
    """An admin's (or ``role``'s) signed-in HTTP session."""
    return signed_http(stack, role)


def everything_stored(stack: Stack) -> str:
    """Every row of every table, as one text (blobs as Latin-1), to search."""
    assert stack.db is not None

    def dump(conn: Any) -> str:
        out = []
        for table in server.models.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                out += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
        if conn.dialect.name == "sqlite":  # the search's FTS5 table, which no model describes
            for row in conn.exec_driver_sql("SELECT name, email, phone FROM visitor_search"):
                out += [str(v) for v in row]
        return "\n".join(out).casefold()

    return stack.db.write_sync(dump)


async def erin_wrote(stack: Stack, erin: Erin) -> tuple[Any, str, str]:
    """Erin wrote, told us who she is, and an agent answered her by name."""
    site = stack.create_site(contacts={"default_country": "PT"})
    client = await writer(
        stack, site, f"Hi, I am {erin.name}, write to {erin.email} or call {erin.phone}", name=erin.name
    )
    await client.identify(email=erin.email, phone=erin.phone)
    await client.next_event("visitor.identified")  # stored before anything else happens
    assert client.visitor is not None
    desk = await agent(stack)
    try:
        cid = (await client.next_event("message.created"))["conversation_id"]
        await desk.send(f"Hello {erin.name}, we will email {erin.email}.", cid)
        await event_in(client, cid, "message.created", lambda f: f["message"]["author"]["type"] == "agent")
    finally:
        await desk.close()
    return client, str(client.visitor["id"]), site.key


async def test_a_contacts_data_downloads_whole(stack: Stack) -> None:
    me = Erin.new()
    erin, contact_id, _ = await erin_wrote(stack, me)
    try:
        async with person(stack) as http:
            got = await http.get(f"/api/v1/contacts/{contact_id}/export")
        assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
        data = got.json()
        assert (data["contact"]["email"], data["contact"]["name"]) == (me.email, me.name)
        said = [m["text"] for c in data["conversations"] for m in c["messages"]]
        assert said == [
            f"Hi, I am {me.name}, write to {me.email} or call {me.phone}",
            f"Hello {me.name}, we will email {me.email}.",
        ]
        assert {"visits", "page_views", "events", "history", "attachments", "proactive_deliveries"} <= set(
            data
        )
    finally:
        await erin.close()


async def test_erasing_leaves_nothing_personal_and_is_recorded(stack: Stack) -> None:
    me = Erin.new()
    erin, contact_id, key = await erin_wrote(stack, me)
    await erin.close()
    async with person(stack) as http:
        # An import that rejected a row naming Erin, and one waiting with her in its file.
        bad = f"Name;Email;Phone\r\n{me.name};not-an-email;{me.phone}\r\n".encode()
        imp = (await http.post(f"/api/v1/sites/{key}/imports", content=bad)).json()["import"]
        await http.post(f"/api/v1/imports/{imp['id']}/run", json={"dry": False})
        waiting = f"Name;Email\r\nSomeone Else;else@example.com\r\nErin;{me.email}\r\n".encode()
        assert (await http.post(f"/api/v1/sites/{key}/imports", content=waiting)).status_code == 201
        for _ in range(200):
            if (await http.get(f"/api/v1/imports/{imp['id']}")).json()["import"]["status"] == "done":
                break
            await asyncio.sleep(0.05)
        before = everything_stored(stack)
        assert me.email in before and me.name.casefold() in before

        refused = await http.post(f"/api/v1/contacts/{contact_id}/erase", json={})
        assert (refused.status_code, refused.json()["code"]) == (422, "confirm_required")
        done = await http.post(f"/api/v1/contacts/{contact_id}/erase", json={"confirm": contact_id})
        assert done.status_code == 200, done.text
        erased = done.json()["erased"]
        assert erased["messages"] >= 1 and erased["conversations"] == 1

        after = everything_stored(stack)
        assert stack.db is not None
        for trace in (
            me.email,
            me.name.casefold(),
            me.digits,
            me.phone[5:].casefold(),
            "erin.erasable." + me.email.split(".")[2].split("@")[0],
        ):
            at = after.find(trace)
            assert at < 0, f"{trace!r} is still stored: …{after[max(0, at - 300) : at + 100]}…"
        assert (await http.get(f"/api/v1/sites/{key}/contacts", params={"q": "erin"})).json()[
            "contacts"
        ] == []
    assert stack.db is not None
    rows = stack.db.write_sync(lambda c: c.exec_driver_sql("SELECT erased_by, counts FROM erasures").all())
    assert len(rows) >= 1  # recorded, with who and how much, nothing about Erin


async def test_agents_can_neither_download_nor_erase(stack: Stack) -> None:
    me = Erin.new()
    erin, contact_id, _ = await erin_wrote(stack, me)
    try:
        async with person(stack, role="agent") as http:
            for answer in (
                await http.get(f"/api/v1/contacts/{contact_id}/export"),
                await http.post(f"/api/v1/contacts/{contact_id}/erase", json={"confirm": contact_id}),
            ):
                assert (answer.status_code, answer.json()["code"]) == (403, "admins_only")
    finally:
        await erin.close()
