"""Bots in Chromium: a proactive bot message on the demo shop, driven by quick replies to a
handoff the agent sees; and the Bots admin page (validation, preview, publish)."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.bots.test_flows import ORDER_HELP
from tests.browser.conftest import Shop, signed_in_page
from tests.browser.widget import HOST, Widget
from tests.harness import Stack
from tests.helpers import agent, event_in, sign_in
from tests.proactive.helpers import Admin

pytestmark = pytest.mark.anyio


async def test_a_proactive_bot_message_end_to_end(stack: Stack, shop: Shop, browser: Browser) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack, stack.visitor_url)
    desk = await agent(stack)
    context = await browser.new_context()
    try:
        made = await admin.http.post(f"/api/v1/sites/{site.key}/bot-answers", json={"name": "Order help"})
        answer = made.json()["id"]
        published = await admin.http.patch(
            f"/api/v1/bot-answers/{answer}",
            json={"flow": ORDER_HELP, "bot_name": "Kettle bot", "published": True},
        )
        assert published.status_code == 200, published.text
        await admin.live(
            site,
            name="Order bot",
            text="Questions about an order?",
            response="bot",
            bot_answer_id=answer,
            trigger={"type": "page_load"},
        )
        w = await Widget.visit(context, f"{shop.url}/?site={site.key}")
        bubble = w.page.locator(f"{HOST} .pv")
        await expect(bubble).to_contain_text("Questions about an order?", timeout=5000)
        await bubble.click()
        await w.say("hi")
        quick = w.page.locator(f"{HOST} .qr button")
        await expect(quick).to_have_text(["Track my order", "Returns"])
        await expect(w.log).to_contain_text("Kettle bot")
        # A bot is drawn apart from a person: its own avatar, not grey initials.
        await expect(
            w.page.locator(f"{HOST} .m", has_text="Kettle bot").locator(".av.bot").last
        ).to_be_visible()
        await quick.filter(has_text="Track my order").click()
        await expect(w.log).to_contain_text("Your email?")
        await expect(quick).to_have_count(2)  # the old question's buttons are gone…
        await expect(w.page.locator(f"{HOST} .qr:not([hidden]) button")).to_have_count(0)  # …and hidden
        await w.say("boss@vip.example")  # the branch hands VIPs straight to a person
        await expect(w.log).to_contain_text("Connecting you to a person…")

        cid = await w.conversation_id()
        handed = await event_in(desk, cid, "conversation.updated", lambda f: bool(f.get("handoff")))
        assert handed["tags"] == ["order-help", "handoff"]
        page = await desk.history_page(cid)
        bot_texts = [
            e["message"]["text"]
            for e in page["events"]
            if e.get("message", {}).get("author", {}).get("type") == "bot"
        ]
        assert bot_texts[:3] == ["Hi! I am the order bot.", "What do you need?", "Your email?"]
        assert w.errors == []
    finally:
        await context.close()
        await desk.close()
        await admin.close()


async def test_the_bots_page_validates_previews_and_publishes(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    email, password = stack.create_agent(role="admin")
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/admin/bots?site={shop.site.key}")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await expect(page.get_by_role("heading", name="Bots")).to_be_visible()

        await page.get_by_label("New answer").fill("Returns <b>desk</b>")
        await page.get_by_role("button", name="Create").click()
        await expect(page.locator("#edit-h")).to_have_text("Returns <b>desk</b>")
        # The starter flow previews at once: a handoff.
        preview = page.get_by_role("log", name="Preview conversation")
        await expect(preview).to_contain_text("Let me find someone to help you.")

        broken = json.loads(json.dumps(ORDER_HELP))
        broken["steps"]["extra"] = {"type": "end", "text": "lost"}
        await expect(page.get_by_label("Flow (JSON)")).to_be_hidden()  # JSON is the advanced view
        await page.get_by_text("Advanced: the flow as JSON").click()
        await page.get_by_label("Flow (JSON)").fill(json.dumps(broken))
        await page.get_by_role("button", name="Save draft").click()
        await expect(page.locator("#edit-status")).to_contain_text("steps.extra")
        await expect(page.locator("#edit-status")).to_contain_text("unreachable")
        diagram = page.get_by_role("img", name="Where each step leads")
        await expect(diagram.locator("g", has_text="extra")).to_contain_text("end · not reached")
        await expect(diagram.locator("desc")).to_contain_text("menu leads to")

        await page.get_by_label("Flow (JSON)").fill(json.dumps(ORDER_HELP, indent=2))
        await expect(page.locator("#outline")).to_contain_text("menu: buttons")
        await page.get_by_role("button", name="Restart").click()
        await expect(preview).to_contain_text("What do you need?")
        await preview.get_by_role("button", name="Returns").click()
        await expect(preview).to_contain_text("Order number?")
        await page.get_by_placeholder("Write as a visitor…").fill("A-7")
        await page.get_by_placeholder("Write as a visitor…").press("Enter")
        await expect(preview).to_contain_text("handed off to agents, tagged handoff")
        await expect(preview).to_contain_text('attributes {"order":"A-7"}')

        await page.get_by_role("button", name="Publish", exact=True).click()
        await expect(page.locator("#edit-status")).to_contain_text("Published as version 1")
        await expect(page.locator("#answers")).to_contain_text("published v1")
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            listed = (await http.get(f"/api/v1/sites/{shop.site.key}/bot-answers")).json()["answers"]
            mine = next(a for a in listed if a["name"] == "Returns <b>desk</b>")
            assert mine["published"] and mine["version"] == 1
        await page.get_by_role("button", name="Unpublish").click()
        await expect(page.locator("#answers")).to_contain_text("unpublished (v1)")
        assert await page.locator("#answers b, #edit-h b").count() == 0
        assert errors == []
    finally:
        await context.close()


async def test_building_a_flow_with_the_step_form(stack: Stack, shop: Shop, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/admin/bots?site={shop.site.key}")
        await page.get_by_label("New answer").fill("Survey")
        await page.get_by_role("button", name="Create").click()
        await expect(page.locator("#edit-h")).to_have_text("Survey")
        form = page.locator("#step-form")

        async def put(step_id: str, kind: str, start: bool = False, **fields: str) -> None:
            await form.get_by_label("Step id").fill(step_id)
            await form.get_by_label("Type").select_option(kind)
            for label, value in fields.items():
                await form.get_by_label(label.replace("_", " "), exact=False).first.fill(value)
            if start:
                await form.get_by_label("the flow starts here").check()
            else:
                await form.get_by_label("the flow starts here").uncheck()
            await page.get_by_role("button", name="Put this step in the flow").click()

        await put(
            "ask",
            "buttons",
            start=True,
            Text="How did you find us?",
            Options="Search | google | tag_search\nA friend | friend | bye",
        )
        await put("tag_search", "set", Tags="from-search", Next_step="bye")
        await put("bye", "end", Text="Thanks for telling us!")
        await expect(page.locator("#outline")).to_contain_text("▶ ask: buttons")
        # The starter's old step is now unreachable: the server says so, by name.
        await page.get_by_role("button", name="Save draft").click()
        await expect(page.locator("#edit-status")).to_contain_text("steps.hello")
        await page.locator("#outline").get_by_role("button", name="hello: handoff").click()
        await expect(form.get_by_label("Step id")).to_have_value("hello")
        await put("hello", "handoff", Text="Let me find someone.")
        await put("bye", "end", Text="Thanks! Anything else? Write 'agent'.")
        await page.get_by_role("button", name="Remove step hello").click()
        await page.get_by_role("dialog").get_by_role("button", name="Remove").click()
        await expect(page.locator("#outline")).not_to_contain_text("hello: handoff")
        await page.get_by_role("button", name="Save draft").click()
        await expect(page.locator("#edit-status")).to_have_text("Saved as a draft.")
        preview = page.get_by_role("log", name="Preview conversation")
        await page.get_by_role("button", name="Restart").click()
        await preview.get_by_role("button", name="Search").click()
        await expect(preview).to_contain_text("Thanks! Anything else?")
        await expect(preview).to_contain_text('tags ["from-search"]')
    finally:
        await context.close()
