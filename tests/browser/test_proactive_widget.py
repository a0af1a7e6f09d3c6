"""A proactive message as a visitor meets it on the demo shop, in Chromium."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop
from tests.browser.widget import HOST, Widget
from tests.harness import Stack
from tests.helpers import agent, event_in
from tests.proactive.helpers import Admin

pytestmark = pytest.mark.anyio


async def test_the_bubble_asks_for_an_email_then_hands_over_with_tags(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack, stack.visitor_url)
    desk = await agent(stack)
    context = await browser.new_context()
    try:
        await admin.live(
            site,
            name="Pricing help",
            text="Questions about our plans?",
            collect=["email"],
            followup="Thanks! An agent will answer here.",
            tags=["pricing", "lead"],
            trigger={"type": "time_on_page", "seconds": 1},
            conditions={"all": [{"field": "page.path", "op": "starts_with", "value": "/pricing"}]},
        )
        w = await Widget.visit(context, f"{shop.url}/pricing?site={site.key}")
        bubble = w.page.locator(f"{HOST} .pv")
        await expect(bubble).to_contain_text("Questions about our plans?", timeout=5000)
        await expect(bubble).to_contain_text("Test site")  # the channel's default sender
        await bubble.click()
        await expect(w.panel).to_be_visible()
        await expect(w.log).to_contain_text("Questions about our plans?")
        email = w.page.get_by_label("Your email")
        await expect(email).to_be_focused()
        await expect(w.page.get_by_label("Your name")).to_be_hidden()
        await expect(w.composer).to_be_disabled()

        # The form spans the card (it used to sit in its right half), its error on the left.
        form = await w.page.locator(f"{HOST} .ask").bounding_box()
        field = await email.bounding_box()
        assert form and field and field["x"] - form["x"] < 16 and field["width"] > form["width"] * 0.8

        await email.fill("not-an-email")
        await email.press("Enter")
        await expect(w.page.locator(f"{HOST} .ask [role=alert]")).to_contain_text("is not an email address")
        align = "e => getComputedStyle(e).textAlign"
        assert await w.page.locator(f"{HOST} .ask [role=alert]").evaluate(align) in ("left", "start")
        await email.fill("rita@example.com")
        await w.page.locator(f"{HOST} .ask button").click()
        await expect(w.log).to_contain_text("Thanks! An agent will answer here.")
        await expect(w.page.locator(f"{HOST} .ask")).to_have_count(0)
        await expect(w.page.locator(f"{HOST} .gv")).to_have_text("You gave: rita@example.com")
        await expect(w.composer).to_be_enabled()
        assert await w.page.locator(f"{HOST} .m", has_text="Questions about our plans?").count() == 1

        cid = await w.conversation_id()
        created = await event_in(desk, cid, "conversation.created")
        assert created["tags"] == ["pricing", "lead"]
        await w.say("Is there a discount for schools?")
        got = await event_in(
            desk, cid, "message.created", lambda f: f["message"]["author"]["type"] == "visitor"
        )
        assert got["message"]["text"] == "Is there a discount for schools?"
        assert w.errors == []
    finally:
        await context.close()
        await desk.close()
        await admin.close()


async def test_the_x_hides_it_and_frequency_decides_its_return(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    site = stack.create_site()
    admin = await Admin.login(stack, stack.visitor_url)
    await admin.http.patch(f"/api/v1/sites/{site.key}/proactive-settings", json={"cap_per_visit": 10})
    context = await browser.new_context()
    try:
        once = await admin.live(site, name="once", text="Only once per visit", priority=1)
        w = await Widget.visit(context, f"{shop.url}/?site={site.key}")
        bubble = w.page.locator(f"{HOST} .pv")
        await expect(bubble).to_contain_text("Only once per visit")
        await w.page.get_by_role("button", name="Dismiss").click()
        await expect(bubble).to_be_hidden()
        await w.goto(f"{shop.url}/pricing?site={site.key}")
        await w.connected()
        await w.page.wait_for_timeout(500)
        await expect(bubble).to_be_hidden()  # once per visit: not again

        await admin.act(once["id"], "pause")
        await admin.live(site, name="every", text="Every time you come", frequency="every_time")
        await w.goto(f"{shop.url}/product?site={site.key}")
        await expect(bubble).to_contain_text("Every time you come")
        await w.page.get_by_role("button", name="Dismiss").click()
        await w.goto(f"{shop.url}/checkout?site={site.key}")
        await expect(bubble).to_contain_text("Every time you come")  # every time: back on the next page
        counters = (await admin.http.get(f"/api/v1/sites/{site.key}/proactive")).json()["messages"]
        sent = {m["name"]: m["counters"]["sent"] for m in counters}
        assert sent["once"] == 1 and sent["every"] == 2
    finally:
        await context.close()
        await admin.close()
