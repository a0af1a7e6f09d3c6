"""axe-core on every page and every state of the widget: no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import Shop, signed_in_page
from tests.browser.widget import Widget
from tests.harness import Stack
from tests.helpers import writer
from tests.proactive.helpers import Admin

pytestmark = pytest.mark.anyio


async def test_the_sign_in_page(stack: Stack, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(stack.agent_url + "/login")
    await assert_accessible(page, "/login")
    await page.get_by_label("Email").fill("nobody@example.com")
    await page.get_by_label("Password").fill("wrong-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await assert_accessible(page, "/login with an error")


async def test_the_workspace(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    person = await writer(stack, site, "Is this accessible?", name="Ada Axe", email="ada@example.com")
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, "/agent")
        await expect(page.locator("#list li", has_text="Ada Axe")).to_be_visible()
        await assert_accessible(page, "/agent, nothing open")
        await page.locator("#list li", has_text="Ada Axe").get_by_role("button").click()
        await expect(page.locator("#messages")).to_contain_text("Is this accessible?")
        await assert_accessible(page, "/agent, a conversation open")
        await page.locator("#snooze").click()
        await assert_accessible(page, "/agent, the snooze menu open")
        await page.keyboard.press("Escape")
        await page.locator("body").press("?")
        await assert_accessible(page, "/agent, the shortcuts")
    finally:
        await context.close()
        await person.close()


async def test_the_admin_pages(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    admin = await Admin.login(stack)
    made = await admin.create(site)
    await admin.close()
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/admin/proactive?site={site.key}")
        await assert_accessible(page, "/admin/proactive")
        name = made["name"]
        await page.get_by_role("button", name=f"Options for {name}").click()
        await assert_accessible(page, "/admin/proactive, a row's menu open")
        await page.get_by_role("menuitem", name="Delete").click()
        await expect(page.get_by_role("dialog")).to_be_visible()
        await assert_accessible(page, "/admin/proactive, the delete confirmation")
        await page.keyboard.press("Escape")
        for path in (
            f"/admin/proactive/{made['id']}",
            f"/admin/proactive/why?site={site.key}",
            f"/admin/bots?site={site.key}",
            f"/admin/settings?site={site.key}",
            "/admin/components",
            f"/contacts?site={site.key}",
            f"/contacts/import?site={site.key}",
        ):
            await page.goto(stack.agent_url + path)
            await expect(page.locator("main h1")).to_be_visible()
            await assert_accessible(page, path)
    finally:
        await context.close()


async def test_the_widget_closed_open_and_on_a_phone(shop: Shop, browser: Browser) -> None:
    for viewport, where in (
        ({"width": 1280, "height": 800}, "desktop"),
        ({"width": 375, "height": 667}, "phone"),
    ):
        context = await browser.new_context(viewport=viewport)
        try:
            w = await Widget.visit(context, shop.url + "/")
            await assert_accessible(w.page, f"the widget closed ({where})")
            await w.open()
            await w.say("Hello, is anyone there?")
            await assert_accessible(w.page, f"the widget open ({where})")
        finally:
            await context.close()


async def test_the_widget_with_a_proactive_message(stack: Stack, shop: Shop, browser: Browser) -> None:
    admin = await Admin.login(stack)
    try:
        await admin.live(shop.site, text="Questions about our plans?", collect=["email"])
    finally:
        await admin.close()
    context = await browser.new_context()
    try:
        w = await Widget.visit(context, shop.url + "/pricing")
        await expect(w.page.get_by_text("Questions about our plans?")).to_be_visible()
        await assert_accessible(w.page, "the widget's proactive message")
    finally:
        await context.close()
