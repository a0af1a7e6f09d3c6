"""Statuses and actions over HTTP: every allowed and forbidden move, has-errors, the predefined drafts."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Stack
from tests.helpers import hello, raw_visitor, sign_in
from tests.proactive.helpers import Admin

pytestmark = pytest.mark.anyio

ALLOWED = {
    "draft": {"clone", "publish", "delete"},
    "live": {"clone", "pause", "delete"},
    "paused": {"clone", "resume", "delete"},
    "error": {"delete"},
}


async def _in_status(admin: Admin, site, status: str) -> dict:  # type: ignore[no-untyped-def]
    made = await admin.create(site, name=f"in {status}")
    if status in ("live", "paused", "error"):
        assert (await admin.act(made["id"], "publish")).status_code == 200
    if status == "paused":
        assert (await admin.act(made["id"], "pause")).status_code == 200
    if status == "error":
        answer = (
            await admin.http.post(
                f"/api/v1/sites/{site.key}/bot-answers", json={"name": "b", "published": True}
            )
        ).json()
        await admin.http.patch(
            f"/api/v1/proactive/{made['id']}", json={"response": "bot", "bot_answer_id": answer["id"]}
        )
        await admin.http.patch(f"/api/v1/bot-answers/{answer['id']}", json={"published": False})
    found = await admin.message(made["id"])
    assert found["status"] == status, found
    return found


@pytest.mark.parametrize("status", ["draft", "live", "paused", "error"])
async def test_each_status_allows_exactly_its_actions(stack: Stack, status: str) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        for action in ("clone", "publish", "pause", "resume", "delete"):
            msg = await _in_status(admin, site, status)
            assert set(msg["actions"]) - {"edit"} == ALLOWED[status]
            answer = await admin.act(msg["id"], action)
            if action in ALLOWED[status]:
                assert answer.status_code in (200, 201), (status, action, answer.text)
                after = {"clone": status, "publish": "live", "pause": "paused", "resume": "live"}.get(action)
                if action == "clone":
                    assert (
                        answer.json()["status"] == "draft" and answer.json()["name"] == f"Copy of in {status}"
                    )
                    assert (await admin.message(msg["id"]))["status"] == after
                elif action == "delete":
                    assert (await admin.http.get(f"/api/v1/proactive/{msg['id']}")).status_code == 404
                else:
                    assert answer.json()["status"] == after
            else:
                assert answer.status_code == 409, (status, action)
                body = answer.json()
                assert body["code"] == "invalid_transition" and body["status"] == status
                assert "cannot be" in body["message"]
            # Edit is offered in every status.
            assert "edit" in msg["actions"]
    finally:
        await admin.close()


async def test_publishing_needs_an_enabled_channel_and_a_published_bot(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        no_channel = await admin.create(site, channel_id=None)
        refused = await admin.act(no_channel["id"], "publish")
        assert refused.status_code == 409 and refused.json()["code"] == "cannot_publish"
        assert "choose a channel" in refused.json()["message"]

        bot = await admin.create(site, response="bot", text="Let our bot help")
        assert "choose the bot answer" in (await admin.act(bot["id"], "publish")).json()["message"]
        draft_answer = (
            await admin.http.post(f"/api/v1/sites/{site.key}/bot-answers", json={"name": "Orders"})
        ).json()
        await admin.http.patch(f"/api/v1/proactive/{bot['id']}", json={"bot_answer_id": draft_answer["id"]})
        assert "is not published" in (await admin.act(bot["id"], "publish")).json()["message"]
        await admin.http.patch(f"/api/v1/bot-answers/{draft_answer['id']}", json={"published": True})
        assert (await admin.act(bot["id"], "publish")).json()["status"] == "live"

        emoji = await admin.create(site, text="Hi 👋")
        assert "cannot contain emoji" in (await admin.act(emoji["id"], "publish")).json()["message"]
        bad = await admin.http.patch(f"/api/v1/proactive/{emoji['id']}", json={"frequency": "hourly"})
        assert bad.status_code == 422 and bad.json()["field"] == "frequency"
        bad = await admin.http.patch(
            f"/api/v1/proactive/{emoji['id']}", json={"conditions": {"all": [{"field": "nope", "op": "is"}]}}
        )
        assert bad.json()["code"] == "invalid_rule" and bad.json()["where"] == "conditions.all[0]"
    finally:
        await admin.close()


async def test_a_message_whose_channel_or_bot_goes_away_has_errors_and_stops(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        web = await admin.web_channel(site)
        on_web = await admin.live(site, name="on web")
        answer = (
            await admin.http.post(
                f"/api/v1/sites/{site.key}/bot-answers", json={"name": "FAQ", "published": True}
            )
        ).json()
        with_bot = await admin.live(site, name="with bot", response="bot", bot_answer_id=answer["id"])
        sdk_msg = await admin.live(
            site,
            name="sdk",
            channel_id=next(
                c["id"]
                for c in (await admin.http.get(f"/api/v1/sites/{site.key}/channels")).json()["channels"]
                if c["kind"] == "sdk"
            ),
        )

        done = await admin.http.patch(f"/api/v1/channels/{web}", json={"enabled": False})
        assert set(done.json()["messages_with_errors"]) == {on_web["id"], with_bot["id"]}
        found = await admin.message(on_web["id"])
        assert found["status"] == "error" and found["error_reason"] == "the channel 'Web widget' was disabled"
        assert (await admin.message(sdk_msg["id"]))["status"] == "live"

        # It stops sending: a visitor on the web gets nothing.
        sock = await raw_visitor(stack, site)
        assert (await hello(sock, site, page={"url": "https://s.example/"}))["type"] == "welcome"
        await sock.send({"type": "ping"})
        assert (await sock.expect(lambda f: f["type"] in ("pong", "proactive.show")))["type"] == "pong"
        await sock.close()

        # Fixing the cause and saving turns it back into a draft, to publish again.
        await admin.http.patch(f"/api/v1/channels/{web}", json={"enabled": True})
        fixed = await admin.http.patch(f"/api/v1/proactive/{on_web['id']}", json={"name": "on web again"})
        assert fixed.json()["status"] == "draft" and fixed.json()["error_reason"] is None

        deleted = await admin.http.delete(f"/api/v1/bot-answers/{answer['id']}")
        assert deleted.json()["messages_with_errors"] == []  # already has errors (from the channel)
        assert "was disabled" in (await admin.message(with_bot["id"]))["error_reason"]

        other = (
            await admin.http.post(
                f"/api/v1/sites/{site.key}/bot-answers", json={"name": "Returns", "published": True}
            )
        ).json()
        bot_live = await admin.live(site, name="bot live", response="bot", bot_answer_id=other["id"])
        gone = await admin.http.delete(f"/api/v1/bot-answers/{other['id']}")
        assert gone.json()["messages_with_errors"] == [bot_live["id"]]
        found = await admin.message(bot_live["id"])
        assert found["status"] == "error" and found["error_reason"] == "the bot answer 'Returns' was deleted"
    finally:
        await admin.close()


async def test_the_first_visit_to_the_page_brings_three_drafts_and_only_admins_see_it(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        first = (await admin.http.get(f"/api/v1/sites/{site.key}/proactive")).json()["messages"]
        assert len(first) == 3 and {m["status"] for m in first} == {"draft"}
        assert {m["name"] for m in first} == {
            "Welcome on the pricing page",
            "Help after a minute on checkout",
            "Greeting for returning visitors",
        }
        await admin.act(first[0]["id"], "delete")
        again = (await admin.http.get(f"/api/v1/sites/{site.key}/proactive")).json()["messages"]
        assert len(again) == 2  # not seeded twice
        for draft in again:
            assert (await admin.act(draft["id"], "publish")).status_code == 200  # they are ready to publish

        email, password = stack.create_agent(role="agent")
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            assert (await http.get(f"/api/v1/sites/{site.key}/proactive")).status_code == 403
    finally:
        await admin.close()


async def test_the_list_page_refuses_a_sort_it_does_not_have(stack: Stack) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        base = f"/admin/proactive?site={site.key}"
        assert (await admin.http.get(base + "&sort=sent&dir=asc")).status_code == 200
        for query in ("&sort=password_hash", "&sort=name&dir=sideways"):
            refused = await admin.http.get(base + query)
            assert (refused.status_code, refused.json()["code"]) == (422, "invalid_sort"), query
    finally:
        await admin.close()
