"""The inbox over HTTP: views, statuses, blue and grey markers, the badge, and search."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.harness import Stack
from tests.helpers import agent, event_in, visitor

pytestmark = pytest.mark.anyio


async def _identified(stack: Stack, site: Any, text: str, **who: str) -> tuple[Any, str]:
    client = await visitor(stack, site)
    await client.identify(**who)
    await client.next_event("visitor.identified")
    cid = (await client.send(text))["conversation_id"]
    return client, cid


async def test_views_markers_badge_and_search(stack: Stack) -> None:
    site = stack.create_site()
    rita, rita_cid = await _identified(
        stack,
        site,
        "Is the copper kettle back?",
        name="Rita Lopes",
        email="rita.lopes@example.com",
        phone="+351 912-345-678",
    )
    ana, ana_cid = await _identified(
        stack, site, "Do you ship to Spain?", name="Ana Maria Souza", email="ana@shop.example"
    )
    desk = await agent(stack)
    async with httpx.AsyncClient(
        base_url=stack.agent_url, cookies={"parley_session": desk.session or ""}
    ) as http:

        async def inbox(**params: str) -> list[dict[str, Any]]:
            answer = await http.get("/api/v1/inbox", params=params)
            assert answer.status_code == 200, answer.text
            return [c for c in answer.json()["conversations"] if c["site_id"] == site.id]

        try:
            both = await inbox(view="all")
            assert [c["id"] for c in both] == [ana_cid, rita_cid]  # newest first
            assert all(c["unread"] and c["unanswered"] for c in both)  # blue
            assert (
                both[0]["visitor"]["name"] == "Ana Maria Souza"
                and both[0]["last_preview"] == "Do you ship to Spain?"
            )
            badge = (await http.get("/api/v1/inbox/badge")).json()
            assert badge["unread"] >= 2 and badge["unanswered"] >= 2

            # Read: grey (read but unanswered). Answered: neither.
            await desk.mark_read(rita_cid, 2)
            await event_in(desk, rita_cid, "conversation.read")
            rita_row = next(c for c in await inbox(view="all") if c["id"] == rita_cid)
            assert (rita_row["unread"], rita_row["unanswered"]) == (False, True)
            await desk.send("Yes, since Monday.", rita_cid)
            rita_row = next(c for c in await inbox(view="all") if c["id"] == rita_cid)
            assert (rita_row["unread"], rita_row["unanswered"]) == (False, False)
            assert rita_row["last_preview"] == "Yes, since Monday."

            # The agent who wrote took it: Mine; Ana is still Unassigned.
            assert [c["id"] for c in await inbox(view="mine")] == [rita_cid]
            assert [c["id"] for c in await inbox(view="unassigned")] == [ana_cid]

            # Search: names by word prefix, email by substring, phone by digits.
            for query, expected in [
                ("rit", [rita_cid]),
                ("Lop", [rita_cid]),
                ("rita lo", [rita_cid]),
                ("maria sou", [ana_cid]),
                ("ita", []),  # not the start of a word, and in no email... except
                ("lopes@exa", [rita_cid]),
                ("SHOP.EXAMPLE", [ana_cid]),
                ("912345678", [rita_cid]),
                ("912 345", [rita_cid]),
                ("(351) 912", [rita_cid]),
                ("zzz", []),
            ]:
                found = [c["id"] for c in await inbox(view="all", q=query)]
                if query == "ita":
                    assert found == [rita_cid]  # "rita.lopes@…" contains "ita": email matches by substring
                else:
                    assert found == expected, query

            # Closed ones are under Closed.
            await desk.send_frame(
                {"type": "conversation.update", "conversation_id": ana_cid, "status": "closed"}
            )
            await event_in(desk, ana_cid, "conversation.updated")
            assert [c["id"] for c in await inbox(view="all", status="closed")] == [ana_cid]
            assert [c["id"] for c in await inbox(view="all")] == [rita_cid]

            bad = await http.get("/api/v1/inbox", params={"view": "everyone"})
            assert bad.status_code == 422 and bad.json()["code"] == "invalid_parameter"
            async with httpx.AsyncClient(base_url=stack.agent_url) as anonymous:
                assert (await anonymous.get("/api/v1/inbox")).status_code == 401
        finally:
            for client in (rita, ana, desk):
                await client.close()
