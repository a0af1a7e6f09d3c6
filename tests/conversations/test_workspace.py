"""The workspace's rules over real sockets and HTTP: channel grants, sections, revocation,
CSRF, the sign-in throttle, assignment, closing logic, snooze, notes, greeting and away,
routing and the history cap."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from parley_client import AgentClient, VisitorClient
from server.channels.store import site_channels
from tests.conftest import BACKENDS
from tests.harness import Stack, build_stack
from tests.helpers import event_in, hello, raw_visitor, sign_in, visitor

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", params=BACKENDS)
def desk(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Servers with a tight sign-in throttle and history trimmed every half second."""
    built = build_stack(
        request.param,
        login_failures_per_email="3",
        history_prune_interval_s="0.5",
        max_attachment_bytes="4096",
    )
    yield built
    built.close()


class Admin:
    """An admin's HTTP session (with its CSRF token)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.AsyncClient(base_url=stack.agent_url)

    async def __aenter__(self) -> Admin:
        email, password = self.stack.create_agent(role="admin")
        await sign_in(self.http, email, password)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.http.aclose()

    async def patch_user(self, user_id: str, **changes: Any) -> dict[str, Any]:
        done = await self.http.patch(f"/api/v1/users/{user_id}", json=changes)
        assert done.status_code == 200, done.text
        result: dict[str, Any] = done.json()
        return result

    async def inbox_settings(self, site: Any, **changes: Any) -> dict[str, Any]:
        done = await self.http.patch(f"/api/v1/sites/{site.key}/inbox-settings", json=changes)
        assert done.status_code == 200, done.text
        result: dict[str, Any] = done.json()["inbox"]
        return result


async def _agent(stack: Stack, role: str = "agent") -> AgentClient:
    email, password = stack.create_agent(role=role)
    client = AgentClient(stack.agent_url, email, password, reconnect=False)
    await client.connect()
    return client


def _channels(stack: Stack, site: Any) -> dict[str, str]:
    assert stack.db is not None
    return {c.kind: c.id for c in stack.db.write_sync(lambda c: site_channels(c, site.id))}


async def _quiet(client: Any, conversation_id: str, seconds: float = 1.0) -> None:
    """Nothing about the conversation reaches the client for a while."""
    with pytest.raises(TimeoutError):
        await event_in(client, conversation_id, "message.created", timeout=seconds)


async def test_an_agent_sees_and_reaches_only_granted_channels(desk: Stack) -> None:
    site = desk.create_site()
    channels = _channels(desk, site)
    web_visitor = await visitor(desk, site, kind="web")
    app_user = await visitor(desk, site, kind="ios")
    boss = await _agent(desk, role="admin")
    mobile_only = await _agent(desk)
    async with Admin(desk) as admin:
        try:
            assert mobile_only.user is not None
            changed = await admin.patch_user(
                mobile_only.user["id"], all_channels=False, channels=[channels["sdk"]]
            )
            assert changed["channels"] == [channels["sdk"]] and changed["all_channels"] is False
            assert (await mobile_only.next_event("access.updated"))["channels"] == [channels["sdk"]]

            web_cid = (await web_visitor.send("From the website"))["conversation_id"]
            app_cid = (await app_user.send("From the app"))["conversation_id"]
            # The admin sees both; the mobile-only agent sees the app's, and never the website's.
            await event_in(boss, web_cid, "message.created")
            await event_in(boss, app_cid, "message.created")
            await event_in(mobile_only, app_cid, "message.created")
            await _quiet(mobile_only, web_cid)

            # Over HTTP: 403 for the website's conversation, listed nowhere.
            http = httpx.AsyncClient(
                base_url=desk.agent_url,
                cookies={"parley_session": mobile_only.session or ""},
                headers={"X-CSRF-Token": mobile_only.csrf_token or ""},
            )
            async with http:
                for path in (
                    f"/api/v1/conversations/{web_cid}/events",
                    f"/api/v1/conversations/{web_cid}/contact",
                ):
                    refused = await http.get(path)
                    assert (refused.status_code, refused.json()["code"]) == (403, "channel_forbidden"), path
                listed = (await http.get("/api/v1/inbox", params={"view": "all"})).json()["conversations"]
                assert web_cid not in [c["id"] for c in listed] and app_cid in [c["id"] for c in listed]
                assert (await http.get(f"/api/v1/conversations/{app_cid}/events")).status_code == 200
                closing = await http.patch(f"/api/v1/conversations/{web_cid}", json={"status": "closed"})
                assert closing.status_code == 403
                # Sections: an agent has no Proactive messages or Settings.
                denied = await http.get(f"/api/v1/sites/{site.key}/proactive")
                assert (denied.status_code, denied.json()["code"]) == (403, "section_forbidden")

            # Over the socket: writing, reading, typing there are refused the same way.
            with pytest.raises(Exception) as refused_send:
                await mobile_only.send("sneaking in", web_cid)
            assert "channel_forbidden" in str(refused_send.value.args)
            await mobile_only.typing(web_cid)
            assert (await mobile_only.next_error())["code"] == "channel_forbidden"

            # Assigning the website's conversation to that agent is refused too.
            await boss.update(web_cid, assignee_id=mobile_only.user["id"])
            assert (await boss.next_error())["code"] == "assignee_no_access"

            # Nothing else reached the website visitor or stored.
            page = await boss.history_page(web_cid)
            assert [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"] == [
                "From the website"
            ]
        finally:
            for client in (web_visitor, app_user, boss, mobile_only):
                await client.close()


async def test_disabling_a_user_closes_their_sockets_and_sessions(desk: Stack) -> None:
    target = await _agent(desk)
    async with Admin(desk) as admin:
        try:
            assert target.user is not None
            await admin.patch_user(target.user["id"], is_active=False)
            closed = await target.wait_closed(timeout=5)
            assert closed is not None and closed.code == 4401
            async with httpx.AsyncClient(
                base_url=desk.agent_url, cookies={"parley_session": target.session or ""}
            ) as http:
                assert (await http.get("/api/v1/me")).json()["code"] == "not_authenticated"
                again = await http.post(
                    "/api/v1/auth/login", json={"email": target.email, "password": target.password}
                )
                assert again.json()["code"] == "account_disabled"
            # Admins cannot lock themselves out.
            me = (await admin.http.get("/api/v1/me")).json()["user"]
            refused = await admin.http.patch(f"/api/v1/users/{me['id']}", json={"is_active": False})
            assert refused.status_code == 422
        finally:
            await target.close()


async def test_state_changes_need_the_csrf_token(desk: Stack) -> None:
    site = desk.create_site()
    alice = await visitor(desk, site)
    cid = (await alice.send("hello"))["conversation_id"]
    email, password = desk.create_agent()
    async with httpx.AsyncClient(base_url=desk.agent_url) as http:
        try:
            token = (await sign_in(http, email, password))["csrf_token"]
            del http.headers["X-CSRF-Token"]
            for headers in (
                {},
                {"X-CSRF-Token": "0" * 64},
                {"X-CSRF-Token": token, "Origin": "https://evil.example"},
            ):
                refused = await http.patch(
                    f"/api/v1/conversations/{cid}", json={"status": "closed"}, headers=headers
                )
                assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed"), headers
            assert (await http.get(f"/api/v1/conversations/{cid}")).json()["status"] == "open"
            done = await http.patch(
                f"/api/v1/conversations/{cid}", json={"status": "closed"}, headers={"X-CSRF-Token": token}
            )
            assert done.status_code == 200 and done.json()["status"] == "closed"
        finally:
            await alice.close()


async def test_sign_in_is_throttled_per_account(desk: Stack) -> None:
    email, password = desk.create_agent()
    other_email, other_password = desk.create_agent()
    async with httpx.AsyncClient(base_url=desk.agent_url) as http:
        for _ in range(3):
            wrong = await http.post("/api/v1/auth/login", json={"email": email, "password": "wrong-password"})
            assert wrong.json()["code"] == "bad_credentials"
        # Even the right password waits now, with a clear reason and when to retry.
        throttled = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "too_many_attempts" and throttled.json()["retry_after_s"] > 0
        form = await http.post("/login", data={"email": email, "password": password})
        assert form.status_code == 429 and "Too many failed sign-ins" in form.text
        # Another account is not affected.
        fine = await http.post("/api/v1/auth/login", json={"email": other_email, "password": other_password})
        assert fine.status_code == 200


async def test_assign_close_reopen_and_snooze(desk: Stack) -> None:
    site = desk.create_site()
    alice = await visitor(desk, site)
    ana = await _agent(desk)
    bo = await _agent(desk)
    async with Admin(desk) as admin:
        try:
            assert ana.user is not None and bo.user is not None
            cid = (await alice.send("Where is my order?"))["conversation_id"]
            await event_in(ana, cid, "message.created")

            # Assign, reassign, unassign: each a sequenced event the visitor receives too.
            for assignee in (ana.user["id"], bo.user["id"], None):
                await ana.update(cid, assignee_id=assignee)
                seen = await event_in(ana, cid, "conversation.updated")
                assert seen["assignee_id"] == assignee and seen["by"]["id"] == ana.user["id"]
                assert (await event_in(alice, cid, "conversation.updated"))["assignee_id"] == assignee

            # Writing in an unassigned conversation takes it.
            await bo.send("Let me check.", cid)
            bo_id = bo.user["id"]
            taken = await event_in(bo, cid, "conversation.updated", lambda f: f["by"]["id"] == bo_id)
            assert taken["assignee_id"] == bo_id

            # Closing logic "drop": closing unassigns; when and by whom is kept.
            await admin.inbox_settings(site, closing="drop")
            await ana.update(cid, status="closed")
            closed = await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "closed")
            assert closed["status"] == "closed" and closed["assignee_id"] is None and closed["closed_at"]
            summary = (await admin.http.get(f"/api/v1/conversations/{cid}")).json()
            assert summary["closed_by"] == ana.user["id"] and summary["closed_at"] == closed["closed_at"]

            # The visitor writing reopens it.
            await alice.send("Still nothing.", cid)
            reopened = await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "open")
            assert reopened["status"] == "open" and reopened["by"]["type"] == "visitor"

            # Snooze: out of Open and Closed, in Snoozed; it wakes by itself.
            until = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
            await ana.update(cid, status="snoozed", snoozed_until=until)
            snoozed = await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "snoozed")
            assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"]

            async def listed(status: str) -> list[str]:
                page = (
                    await admin.http.get("/api/v1/inbox", params={"view": "all", "status": status})
                ).json()
                return [c["id"] for c in page["conversations"]]

            assert cid in await listed("snoozed")
            assert cid not in await listed("open") and cid not in await listed("closed")
            woke = await event_in(
                ana, cid, "conversation.updated", lambda f: f["status"] == "open", timeout=10
            )
            assert woke["status"] == "open" and woke["by"]["name"] == "Snooze"

            # Bad snoozes are refused by name.
            await ana.update(cid, status="snoozed", snoozed_until="2020-01-01T00:00:00Z")
            assert (await ana.next_error())["code"] == "invalid_snooze"
            await ana.update(cid, status="snoozed", snoozed_until="tomorrow")
            assert (await ana.next_error())["code"] == "invalid_snooze"
            # A visitor's message lifts a snooze at once.
            await ana.update(
                cid, status="snoozed", snoozed_until=(datetime.now(UTC) + timedelta(hours=5)).isoformat()
            )
            await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "snoozed")
            await alice.send("Hello?", cid)
            lifted = await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "open")
            assert lifted["by"]["type"] == "visitor"
        finally:
            for client in (alice, ana, bo):
                await client.close()


async def test_internal_notes_never_reach_the_visitor(desk: Stack) -> None:
    site = desk.create_site()
    alice = await visitor(desk, site)
    ana = await _agent(desk)
    bo = await _agent(desk)
    try:
        cid = (await alice.send("Can I get a refund?"))["conversation_id"]
        ack = await ana.note("<b>VIP</b> customer, approve it", cid)
        note = await event_in(bo, cid, "note.created")
        assert note["message"]["text"] == "<b>VIP</b> customer, approve it" and note["seq"] == ack["seq"]
        await ana.send("Yes, approved.", cid)
        reply = await event_in(
            alice, cid, "message.created", lambda f: f["message"]["author"]["type"] == "agent"
        )
        assert reply["message"]["text"] == "Yes, approved."
        # The visitor's history and replay skip the note; the agents' keep it.
        visitor_page = await alice.history_page(cid)
        assert "note.created" not in [e["type"] for e in visitor_page["events"]]
        agent_page = await ana.history_page(cid)
        assert "note.created" in [e["type"] for e in agent_page["events"]]
        late = await visitor(desk, site, token=alice.token, cursors={cid: 1})
        try:
            seen = []
            while (
                not seen
                or seen[-1]["type"] != "message.created"
                or seen[-1]["message"]["author"]["type"] != "agent"
            ):
                seen.append(await late.next_event())
            assert "note.created" not in [f["type"] for f in seen]
            assert seen[-1]["message"]["text"] == "Yes, approved." and seen[-1]["seq"] > ack["seq"]
        finally:
            await late.close()
        # A note answers nobody: the inbox's preview and markers ignore it.
        async with httpx.AsyncClient(
            base_url=desk.agent_url, cookies={"parley_session": bo.session or ""}
        ) as http:
            await bo.note("internal only", cid)
            row = (await http.get(f"/api/v1/conversations/{cid}")).json()
            assert row["last_preview"] == "Yes, approved."
    finally:
        for client in (alice, ana, bo):
            await client.close()


def _closed_now_hours() -> dict[str, Any]:
    """Business hours that are closed today and tomorrow (holidays), open 09:00 every day."""
    today = datetime.now(UTC).date()
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {
        "timezone": "UTC",
        "weekly": {d: [["09:00", "17:00"]] for d in days},
        "holidays": [str(today - timedelta(days=1)), str(today), str(today + timedelta(days=1))],
    }


async def test_greeting_and_away_messages(desk: Stack) -> None:
    site = desk.create_site(proactive={"business_hours": _closed_now_hours()})
    async with Admin(desk) as admin:
        saved = await admin.inbox_settings(
            site, greeting="Hi! An agent will be with you shortly.", away="We are away right now."
        )
        assert saved["greeting"].startswith("Hi!")
        bad = await admin.http.patch(f"/api/v1/sites/{site.key}/inbox-settings", json={"routing": "random"})
        assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
            422,
            "invalid_setting",
            "routing",
        )
    alice = await visitor(desk, site)
    try:
        cid = (await alice.send("Anyone there?"))["conversation_id"]
        texts, origins = [], []
        while len(texts) < 3:
            frame = await event_in(alice, cid, "message.created")
            texts.append((frame["message"]["author"]["type"], frame["message"]["text"]))
            origins.append(frame["message"]["origin"])
        assert origins == ["visitor", "greeting", "away"]
        assert texts[0] == ("visitor", "Anyone there?")
        assert texts[1] == ("system", "Hi! An agent will be with you shortly.")
        assert texts[2][0] == "system" and texts[2][1].startswith(
            "We are away right now.\nWe will reply from "
        )
        expected_day = (datetime.now(UTC).date() + timedelta(days=2)).strftime("%A")
        assert f"{expected_day} 09:00 (UTC)" in texts[2][1]
        # The second message greets no more.
        await alice.send("Hello?", cid)
        await event_in(alice, cid, "message.created", lambda f: f["message"]["text"] == "Hello?")
        with pytest.raises(TimeoutError):
            await event_in(alice, cid, "message.created", timeout=1)
    finally:
        await alice.close()


async def test_routing_round_robin_and_least_busy_among_online_agents(desk: Stack) -> None:
    site = desk.create_site()
    channels = _channels(desk, site)
    ana = await _agent(desk)
    bo = await _agent(desk)
    other_channel = await _agent(desk)
    offline_email, _ = desk.create_agent()
    visitors: list[VisitorClient] = []
    async with Admin(desk) as admin:
        try:
            assert ana.user and bo.user and other_channel.user
            await admin.patch_user(other_channel.user["id"], all_channels=False, channels=[channels["web"]])
            # Only agents of this test may be picked: everyone else signed in earlier is disabled.
            team = (await admin.http.get("/api/v1/team")).json()["users"]
            mine = {ana.user["id"], bo.user["id"], other_channel.user["id"]}
            me = (await admin.http.get("/api/v1/me")).json()["user"]["id"]
            for member in team:
                if member["id"] not in mine and member["id"] != me and member["is_active"]:
                    await admin.patch_user(member["id"], is_active=False)
            assert {
                m["id"] for m in (await admin.http.get("/api/v1/team")).json()["users"] if m["online"]
            } >= {
                ana.user["id"],
                bo.user["id"],
            }
            assert offline_email not in [m["email"] for m in team if m["online"]]

            await admin.inbox_settings(site, routing="round_robin")
            assigned = []
            for i in range(4):
                client = await visitor(desk, site)  # the SDK channel
                visitors.append(client)
                cid = (await client.send(f"Question {i}"))["conversation_id"]
                routed = await event_in(ana, cid, "conversation.updated")
                assert routed["by"]["name"] == "Routing"
                assigned.append(routed["assignee_id"])
            assert set(assigned) == {ana.user["id"], bo.user["id"]}  # never the web-only agent
            assert assigned[0] != assigned[1] and assigned[2] != assigned[3]  # turns

            # Least busy: whoever has fewer open conversations. Close two of Ana's.
            ana_cids = [
                c["id"]
                for c in (await admin.http.get("/api/v1/inbox", params={"view": "all"})).json()[
                    "conversations"
                ]
                if c["assignee_id"] == ana.user["id"]
            ]
            for cid in ana_cids:
                await ana.update(cid, status="closed")
                await event_in(ana, cid, "conversation.updated", lambda f: f["status"] == "closed")
            await admin.inbox_settings(site, routing="least_busy")
            client = await visitor(desk, site)
            visitors.append(client)
            cid = (await client.send("One more"))["conversation_id"]
            assert (await event_in(ana, cid, "conversation.updated"))["assignee_id"] == ana.user["id"]

            # Nobody online with the channel: it waits unassigned.
            await ana.close()
            await bo.close()
            await asyncio.sleep(0.5)
            client = await visitor(desk, site)
            visitors.append(client)
            cid = (await client.send("Hello?"))["conversation_id"]
            await asyncio.sleep(0.5)
            assert (await admin.http.get(f"/api/v1/conversations/{cid}")).json()["assignee_id"] is None
        finally:
            for c in [*visitors, ana, bo, other_channel]:
                await c.close()


async def test_history_cap_keeps_the_latest_messages(desk: Stack) -> None:
    site = desk.create_site()
    async with Admin(desk) as admin:
        await admin.inbox_settings(site, history_cap=50)
        alice = await visitor(desk, site)
        try:
            cid = (await alice.send("message 0"))["conversation_id"]
            for i in range(1, 60):
                await alice.send(f"message {i}", cid)
            for _ in range(50):
                page = (
                    await admin.http.get(f"/api/v1/conversations/{cid}/events", params={"limit": 200})
                ).json()
                texts = [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"]
                if len(texts) == 50:
                    break
                await asyncio.sleep(0.2)
            assert texts == [f"message {i}" for i in range(10, 60)]
            # A client resuming from before the cut is told to refetch.
            late = await visitor(desk, site, token=alice.token, cursors={cid: 1})
            try:
                frame = await late.next_event("message.created")
                assert frame["message"]["text"] in {f"message {i}" for i in range(10, 60)}
            finally:
                await late.close()
        finally:
            await alice.close()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_attachments_upload_send_and_download(desk: Stack) -> None:
    site = desk.create_site()
    alice = await visitor(desk, site)
    mallory = await visitor(desk, site)
    ana = await _agent(desk)
    try:
        cid = (await alice.send("Here is a photo of the dent"))["conversation_id"]

        async with httpx.AsyncClient(base_url=desk.visitor_url) as http:

            async def upload(who: VisitorClient, data: bytes, kind: str, name: str) -> httpx.Response:
                return await http.post(
                    "/api/v1/visitor/attachments",
                    params={"site": site.key},
                    content=data,
                    headers={
                        "Authorization": f"Bearer {who.token}",
                        "Content-Type": kind,
                        "X-Filename": name,
                    },
                )

            done = await upload(alice, PNG, "image/png", "dent%20photo.png")
            assert done.status_code == 201, done.text
            photo = done.json()
            assert (photo["name"], photo["content_type"], photo["size"]) == (
                "dent photo.png",
                "image/png",
                len(PNG),
            )
            # Refusals, each by name: too big, a page posing as an image, an unknown type, no token.
            too_big = await upload(alice, PNG + b"\x00" * 5000, "image/png", "big.png")
            assert (too_big.status_code, too_big.json()["code"]) == (413, "attachment_too_large")
            fake = await upload(alice, b"<html><script>alert(1)</script>", "image/png", "x.png")
            assert (fake.status_code, fake.json()["code"]) == (415, "attachment_type")
            page = await upload(alice, b"<html></html>", "text/html", "x.html")
            assert (page.status_code, page.json()["code"]) == (415, "attachment_type")
            anonymous = await http.post("/api/v1/visitor/attachments", params={"site": site.key}, content=PNG)
            assert anonymous.json()["code"] == "token_invalid"
            other = (await upload(mallory, PNG, "image/png", "m.png")).json()

            # Sent with a message (no text needed): the agent receives it with its URL.
            await alice.send_frame(
                {
                    "type": "message.send",
                    "client_id": "file-1",
                    "conversation_id": cid,
                    "text": "",
                    "attachments": [photo["id"]],
                }
            )
            got = await event_in(ana, cid, "message.created", lambda f: bool(f["message"].get("attachments")))
            sent = got["message"]["attachments"][0]
            assert sent["id"] == photo["id"] and sent["url"].startswith(f"/api/v1/attachments/{photo['id']}/")
            fetched = await http.get(sent["url"])
            assert fetched.content == PNG and fetched.headers["content-type"] == "image/png"
            assert fetched.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in fetched.headers["content-security-policy"]
            row = (await ana.history_page(cid))["conversation"]
            assert row["last_preview"] == "📎 dent photo.png"

            # Another visitor's upload, or one already sent, cannot be sent.
            for attachment_id in (other["id"], photo["id"]):
                await alice.send_frame(
                    {
                        "type": "message.send",
                        "client_id": f"again-{attachment_id}",
                        "conversation_id": cid,
                        "text": "",
                        "attachments": [attachment_id],
                    }
                )
                assert (await alice.next_error())["code"] == "attachment_not_found"
            # An empty message without a file is still refused.
            await alice.send_frame(
                {"type": "message.send", "client_id": "empty", "conversation_id": cid, "text": ""}
            )
            assert (await alice.next_error())["code"] == "message_empty"

        # Agents upload into a conversation they may see (with the CSRF token).
        async with httpx.AsyncClient(
            base_url=desk.agent_url, cookies={"parley_session": ana.session or ""}
        ) as http:
            refused = await http.post(
                f"/api/v1/conversations/{cid}/attachments",
                content=b"hello",
                headers={"Content-Type": "text/plain"},
            )
            assert refused.json()["code"] == "csrf_failed"
            done = await http.post(
                f"/api/v1/conversations/{cid}/attachments",
                content=b"Invoice 42: 19.90 EUR",
                headers={
                    "Content-Type": "text/plain",
                    "X-Filename": "invoice.txt",
                    "X-CSRF-Token": ana.csrf_token or "",
                },
            )
            assert done.status_code == 201, done.text
            await ana.send_frame(
                {
                    "type": "message.send",
                    "client_id": "inv",
                    "conversation_id": cid,
                    "text": "Your invoice",
                    "attachments": [done.json()["id"]],
                }
            )
            seen = await event_in(
                alice, cid, "message.created", lambda f: f["message"]["text"] == "Your invoice"
            )
            invoice = seen["message"]["attachments"][0]
            fetched = await http.get(invoice["url"])
            assert fetched.text == "Invoice 42: 19.90 EUR"
            assert fetched.headers["content-disposition"].startswith("attachment;")
    finally:
        for client in (alice, mallory, ana):
            await client.close()


async def test_a_proactive_handoff_lands_routed_with_its_details_and_tags(desk: Stack) -> None:
    from tests.proactive.helpers import Admin as ProactiveAdmin

    site = desk.create_site()
    await asyncio.sleep(1.5)  # sockets closed by earlier tests leave the presence table
    ana = await _agent(desk)
    proactive = await ProactiveAdmin.login(desk)
    async with Admin(desk) as admin:
        try:
            await admin.inbox_settings(site, routing="least_busy")
            await proactive.live(site, text="Need a quote?", collect=["email"], tags=["quote", "pricing"])
            sock = await raw_visitor(desk, site)
            await hello(sock, site, page={"url": "https://shop.example/pricing", "title": "Pricing"})
            delivery = (await sock.expect("proactive.show"))["delivery_id"]
            await sock.send({"type": "proactive.reply", "delivery_id": delivery, "email": "lead@example.com"})
            cid = (await sock.expect("proactive.replied"))["conversation_id"]
            created = await event_in(ana, cid, "conversation.created")
            assert created["tags"] == ["quote", "pricing"]
            routed = await event_in(ana, cid, "conversation.updated")
            assert routed["assignee_id"] == ana.user["id"] and routed["by"]["name"] == "Routing"  # type: ignore[index]
            row = next(
                c
                for c in (await admin.http.get("/api/v1/inbox", params={"view": "all"})).json()[
                    "conversations"
                ]
                if c["id"] == cid
            )
            assert row["visitor"]["email"] == "lead@example.com" and row["tags"] == ["quote", "pricing"]
            await sock.close()
        finally:
            await ana.close()
            await proactive.close()


async def test_a_new_member_and_their_grants_are_one_change(desk: Stack) -> None:
    """A refused grant used to leave the user made without it: the retry got email_taken."""
    async with Admin(desk) as admin:
        member = {"email": "nina@shop.example", "name": "Nina", "password": "long-enough-1"}
        refused = await admin.http.post("/api/v1/team", json={**member, "sections": ["billing"]})
        assert (refused.status_code, refused.json()["field"]) == (422, "sections")
        team = (await admin.http.get("/api/v1/team")).json()["users"]
        assert "nina@shop.example" not in {m["email"] for m in team}
        made = await admin.http.post(
            "/api/v1/team", json={**member, "sections": ["conversations", "settings"]}
        )
        assert made.status_code == 201, made.text
        assert made.json()["sections"] == ["conversations", "settings"]
