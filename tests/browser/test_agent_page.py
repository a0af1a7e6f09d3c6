"""The demo as a newcomer uses it: a visitor on the shop in one window, an agent on /agent in another."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop
from tests.browser.widget import Widget
from tests.harness import Stack

pytestmark = pytest.mark.anyio


async def test_an_agent_answers_a_visitor_from_the_agent_page(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    email, password = stack.create_agent()
    visitor_context = await browser.new_context()
    agent_context = await browser.new_context()
    try:
        w = await Widget.visit(visitor_context, shop.url + "/pricing")
        await w.page.evaluate("Parley('identify', {name: '<b>Rita</b>', email: 'rita@example.com'})")
        await w.open()
        await w.say("Hi! <script>alert(1)</script> Is the hotel plan monthly?")
        await expect(w.bubble("hotel plan")).to_contain_text("Sent")

        desk = await agent_context.new_page()
        errors: list[str] = []
        desk.on("pageerror", lambda e: errors.append(str(e)))
        await desk.goto(stack.agent_url + "/agent")
        await expect(desk).to_have_url(re.compile(r"/login\?next=/agent$"))
        await desk.get_by_label("Email").fill(email)
        await desk.get_by_label("Password").fill(password)
        await desk.get_by_role("button", name="Sign in").click()
        await expect(desk).to_have_url(stack.agent_url + "/agent")
        await expect(desk.locator("#net")).to_have_text("Online")

        entry = desk.get_by_role("button", name="<b>Rita</b>")
        await entry.click()
        log = desk.locator("#messages")
        await expect(log).to_contain_text("Hi! <script>alert(1)</script> Is the hotel plan monthly?")
        await expect(desk.locator("#contact")).to_contain_text("rita@example.com")
        await expect(desk.locator("#contact")).to_contain_text("Pricing · Kettle & Co")
        assert await log.locator("script, b").count() == 0

        await w.composer.fill("and do you")
        await expect(desk.locator("#typing")).to_have_text("The visitor is typing…")

        await desk.get_by_label("Reply", exact=True).fill("Yes, billed monthly.")
        await desk.get_by_label("Reply", exact=True).press("Enter")
        await expect(w.bubble("Yes, billed monthly.")).to_be_visible()
        # The visitor's panel is open: the agent sees the reply read.
        await expect(log.locator(".msg.agent")).to_contain_text(re.compile(r"✓✓ Read \d\d:\d\d"))
        assert errors == []
    finally:
        await visitor_context.close()
        await agent_context.close()
