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


async def test_the_sign_in_page_is_finished(stack: Stack, browser: Browser) -> None:
    email, _ = stack.create_agent()
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(stack.agent_url + "/login")
        card = page.locator("main.card")
        await expect(card.get_by_role("heading", name="Sign in")).to_be_visible()
        button = page.get_by_role("button", name="Sign in")
        assert await button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(29, 78, 216)"
        assert await card.evaluate("c => getComputedStyle(c).borderRadius") == "12px"
        icon = await page.request.get(stack.agent_url + "/static/favicon.svg")
        assert icon.ok and "svg" in icon.headers["content-type"]

        # A wrong password: said inline, in a sentence, with the email kept.
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill("wrong-password")
        await button.click()
        alert = page.get_by_role("alert")
        await expect(alert).to_have_text("Wrong email or password.")
        await expect(page.get_by_label("Email")).to_have_value(email)
        await expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_label("Password")).to_be_focused()

        # The throttle speaks in minutes.
        for _ in range(5):
            await page.get_by_label("Password").fill("wrong-password")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("alert")).to_be_visible()
        await expect(page.get_by_role("alert")).to_have_text(
            re.compile(r"^Too many failed sign-ins\. Try again in \d+ minutes?\.$")
        )
    finally:
        await context.close()
