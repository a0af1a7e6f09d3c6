"""A visitor chatting through the widget on the demo shop, in Chromium, with an agent on the protocol."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop
from tests.browser.widget import HOST, Widget
from tests.harness import Stack
from tests.helpers import agent, by, event_in, sign_in

pytestmark = pytest.mark.anyio


async def test_a_visitor_chats_and_sees_the_reply_typing_and_read_receipts(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/pricing")
    ana = await agent(stack)
    try:
        await w.open()
        await w.say("Do you ship to Porto? 🚚")
        mine = w.bubble("Do you ship to Porto?")
        await expect(mine).to_contain_text("Sent")
        cid = await w.conversation_id()
        got = await event_in(ana, cid, "message.created")
        assert got["message"]["text"] == "Do you ship to Porto? 🚚"
        assert got["message"]["author"]["type"] == "visitor"

        await ana.typing(cid, True)
        await expect(w.typing).to_have_text(re.compile(r".+ is typing…"))
        await ana.send("Yes, in two days.", cid)
        reply = w.bubble("Yes, in two days.")
        await expect(reply).to_be_visible()
        await expect(reply.locator(".who")).to_have_text(ana.user["name"])  # type: ignore[index]
        initials = "".join(p[0] for p in ana.user["name"].split())[:2].upper()  # type: ignore[index]
        await expect(reply.locator(".av")).to_have_text(initials)
        await expect(w.typing).to_have_text("")  # the message ends the typing

        # The panel is open and visible, so the visitor has read the reply.
        read = await event_in(ana, cid, "conversation.read", by("visitor"))
        assert read["up_to_seq"] >= got["seq"]
        await ana.mark_read(cid, got["seq"])
        await expect(mine).to_contain_text(re.compile(r"✓✓ Read \d\d:\d\d"))
        assert w.errors == []
    finally:
        await ana.close()
        await context.close()


async def test_history_and_unread_survive_page_loads(stack: Stack, shop: Shop, browser: Browser) -> None:
    context = await browser.new_context()
    await context.add_init_script(
        # Count the notification tones the widget plays.
        "window.__tones = 0; const AC = window.AudioContext; window.AudioContext = class extends AC {"
        " createOscillator() { window.__tones++; return super.createOscillator(); } };"
    )
    w = await Widget.visit(context, shop.url + "/")
    ana = await agent(stack)
    try:
        await w.open()
        await w.say("Is the copper kettle induction-safe?")
        cid = await w.conversation_id()
        first = await event_in(ana, cid, "message.created")
        await ana.send("It is.", cid)
        await expect(w.bubble("It is.")).to_be_visible()

        await w.page.reload()
        await expect(w.launcher).to_be_visible()
        await w.open()
        await expect(w.bubble("Is the copper kettle induction-safe?")).to_contain_text("Sent")
        await expect(w.bubble("It is.")).to_be_visible()
        assert await w.page.locator(f"{HOST} .m").count() == 2

        # Closed panel, another page: an agent message shows as unread, with a tone and a preview.
        await w.launcher.click()
        await expect(w.panel).to_be_hidden()
        await w.goto(shop.url + "/product")
        await w.connected()
        await ana.send("By the way, it is on sale today.", cid)
        await expect(w.badge).to_have_text("1")
        await expect(w.preview).to_contain_text("By the way, it is on sale today.")
        await expect(w.launcher).to_have_attribute("aria-label", "Open chat, 1 unread")
        assert await w.page.evaluate("window.__tones") == 1

        # The count is kept across page loads until the visitor reads it.
        await w.goto(shop.url + "/checkout")
        await expect(w.badge).to_have_text("1")
        await w.open()
        await expect(w.badge).to_be_hidden()
        await expect(w.bubble("By the way")).to_be_visible()
        await event_in(
            ana, cid, "conversation.read", lambda f: by("visitor")(f) and f["up_to_seq"] > first["seq"]
        )
        assert (await w.stored())["r"] == 0

        # Muted: no tone, and the choice is kept.
        await w.page.locator(f"{HOST} .h button").first.click()
        await w.page.locator(f"{HOST} .h button").nth(1).click()
        tones = await w.page.evaluate("window.__tones")
        await ana.send("One more thing.", cid)
        await expect(w.badge).to_have_text("1")
        assert await w.page.evaluate("window.__tones") == tones
        assert (await w.stored())["m"] is True
        assert w.errors == []
    finally:
        await ana.close()
        await context.close()


async def test_messages_typed_while_the_server_is_down_arrive_exactly_once(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/")
    ana = await agent(stack)
    try:
        await w.open()
        await w.say("first")
        await expect(w.bubble("first")).to_contain_text("Sent")
        cid = await w.conversation_id()

        server = stack.servers[0]
        server.stop()
        await expect(w.banner).to_be_visible()
        await expect(w.banner).to_contain_text("Reconnecting")
        await w.say("second")
        await w.say("third")
        await expect(w.bubble("second")).to_contain_text("Sending")
        await expect(w.bubble("third")).to_contain_text("Sending")

        # Reloading while offline keeps what was typed: the outbox is in storage.
        assert [o["x"] for o in (await w.stored())["o"]] == ["second", "third"]
        server.start()
        await expect(w.bubble("second")).to_contain_text("Sent", timeout=15_000)
        await expect(w.bubble("third")).to_contain_text("Sent")
        await expect(w.banner).to_be_hidden()

        page = await ana.history_page(cid, limit=50)
        texts = [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"]
        assert texts == ["first", "second", "third"]
        assert await w.page.locator(f"{HOST} .m").count() == 3
    finally:
        await ana.close()
        await context.close()


async def test_messages_typed_before_leaving_a_page_during_an_outage_are_sent_from_the_next(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/")
    ana = await agent(stack)
    server = stack.servers[0]
    try:
        await w.open()
        await w.say("before the outage")
        await expect(w.bubble("before the outage")).to_contain_text("Sent")
        cid = await w.conversation_id()
        server.stop()
        await expect(w.banner).to_be_visible()
        await w.say("typed during the outage")
        await expect(w.bubble("typed during the outage")).to_contain_text("Sending")
        await w.page.goto(shop.url + "/pricing")  # the widget cannot load: its server is down
        server.start()
        await w.goto(shop.url + "/product")
        await w.open()
        await expect(w.bubble("typed during the outage")).to_contain_text("Sent")
        page = await ana.history_page(cid, limit=50)
        texts = [e["message"]["text"] for e in page["events"] if e["type"] == "message.created"]
        assert texts == ["before the outage", "typed during the outage"]
        assert (await w.stored())["o"] == []
    finally:
        if server.proc is None:
            server.start()
        await ana.close()
        await context.close()


async def test_markup_from_an_agent_is_shown_as_text_and_runs_nothing(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/")
    ana = await agent(stack)
    payloads = [
        '<img src=x onerror="window.__pwned = 1">',
        "<script>window.__pwned = 2</script>",
        '<a href="javascript:window.__pwned = 3">click me</a>',
        "javascript:window.__pwned = 4",
        "see https://shop.example/pricing?a=1&b=<2>",
    ]
    try:
        await w.open()
        await w.say("hello")
        cid = await w.conversation_id()
        for text in payloads:
            await ana.send(text, cid)
        for text in payloads[:4]:
            await expect(w.log.get_by_text(text, exact=True)).to_be_visible()
        log = w.page.locator(f"{HOST} .g")
        assert await log.locator("img, script, iframe").count() == 0
        links = log.locator("a")
        assert await links.count() == 1  # only the https address became a link
        assert await links.first.get_attribute("href") == "https://shop.example/pricing?a=1&b="
        assert await links.first.get_attribute("rel") == "noopener noreferrer nofollow"
        for element in await log.locator(".tx").all():
            await element.click()  # clicking the texts runs nothing either
        assert await w.page.evaluate("window.__pwned") is None
        assert w.errors == []
    finally:
        await ana.close()
        await context.close()


async def test_a_hostile_host_stylesheet_does_not_break_the_widget(shop: Shop, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    w = await Widget.visit(context, shop.url + "/?hostile=1")
    try:
        box = await w.launcher.bounding_box()
        assert box is not None
        assert (box["width"], box["height"]) == (56, 56)
        assert box["x"] + box["width"] == pytest.approx(1280 - 20, abs=1)
        assert box["y"] + box["height"] == pytest.approx(800 - 20, abs=1)
        # Nothing of the page (its overlay has the largest z-index too) covers the launcher.
        on_top = await w.page.evaluate(
            f"document.elementFromPoint({box['x'] + 28}, {box['y'] + 28}).hasAttribute('data-parley')"
        )
        assert on_top
        await w.open()
        panel = await w.panel.bounding_box()
        assert panel is not None and panel["width"] == 370
        style = await w.composer.evaluate(
            "e => { const s = getComputedStyle(e); return [s.fontSize, s.color, s.backgroundColor]; }"
        )
        assert style == ["14px", "rgb(17, 24, 39)", "rgb(255, 255, 255)"]
        await w.say("still works")
        await expect(w.bubble("still works")).to_contain_text("Sent")
        # And the widget leaks nothing into the page: one global, no stylesheet.
        globals_ = await w.page.evaluate(
            "Object.keys(window).filter(k => /parley/i.test(k) && k !== 'parleySettings')"
        )
        assert globals_ == ["Parley"]
        sheets = await w.page.evaluate("[...document.styleSheets].map(s => s.href || 'inline')")
        assert all("hostile.css" in s or "shop.css" in s for s in sheets)
    finally:
        await context.close()


async def test_on_a_phone_the_panel_fills_the_screen(shop: Shop, browser: Browser) -> None:
    context = await browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    w = await Widget.visit(context, shop.url + "/")
    try:
        await w.launcher.tap()
        await expect(w.composer).to_be_visible()
        assert await w.panel.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 667}
        await expect(w.launcher).to_be_hidden()  # the panel covers it; its ✕ closes
        await w.page.locator(f"{HOST} .h button").last.tap()
        await expect(w.panel).to_be_hidden()
        await expect(w.launcher).to_be_visible()
    finally:
        await context.close()


async def test_keyboard_only(shop: Shop, browser: Browser) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/")
    page = w.page
    try:
        focused = "() => document.activeElement?.shadowRoot?.activeElement?.className"
        for _ in range(30):
            await page.keyboard.press("Tab")
            if await page.evaluate(focused) == "l":
                break
        else:
            pytest.fail("Tab never reached the launcher")
        outline = await w.launcher.evaluate("e => getComputedStyle(e).outlineStyle")
        assert outline == "solid"  # visible focus
        await expect(w.launcher).to_have_attribute("aria-label", "Open chat")
        await page.keyboard.press("Enter")
        await expect(w.composer).to_be_focused()
        await expect(w.launcher).to_have_attribute("aria-expanded", "true")
        # While open, the launcher is the close button: a cross, not the chat bubble.
        await expect(w.launcher).to_have_attribute("aria-label", "Close chat")
        await expect(w.launcher.locator("svg.x")).to_be_visible()
        await expect(w.launcher.locator("svg.o")).to_be_hidden()
        # The focus ring is the site's colour (the default blue shows on white).
        ring = await w.composer.evaluate("e => getComputedStyle(e).outlineColor")
        assert ring == "rgb(37, 99, 235)", ring
        await expect(w.panel).to_have_attribute("role", "dialog")
        await expect(w.composer).to_have_attribute("aria-label", "Write a message…")

        await page.keyboard.type("two")
        await page.keyboard.press("Shift+Enter")
        await page.keyboard.type("lines")
        assert await w.composer.input_value() == "two\nlines"
        await page.keyboard.press("Enter")
        await expect(w.bubble("two")).to_contain_text("Sent")
        assert await w.bubble("two").locator(".tx").inner_text() == "two\nlines"
        assert await w.composer.input_value() == ""

        # Near the limit a counter shows; over it, Enter sends nothing.
        await w.composer.fill("x" * 950)
        await expect(w.counter).to_have_text("50 characters left")
        await w.composer.fill("x" * 1005)
        await expect(w.counter).to_have_text("5 characters too many")
        await page.keyboard.press("Enter")
        assert len(await w.composer.input_value()) == 1005
        await w.composer.fill("")

        await page.keyboard.press("Escape")
        await expect(w.panel).to_be_hidden()
        assert await page.evaluate(focused) == "l"
        await expect(w.launcher).to_have_attribute("aria-expanded", "false")
    finally:
        await context.close()


async def test_single_page_app_navigation_is_reported_as_page_views(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/app")
    email, password = stack.create_agent()
    try:
        visitor_id = await w.connected()
        await w.page.get_by_role("link", name="Orders").click()
        await w.page.get_by_role("link", name="Settings").click()
        await w.page.go_back()
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            for _ in range(50):
                profile = (await http.get(f"/api/v1/visitors/{visitor_id}")).json()
                if len(profile["page_views"]) >= 4:
                    break
                await w.page.wait_for_timeout(100)
        views = [(v["url"].removeprefix(shop.url), v["title"]) for v in reversed(profile["page_views"])]
        assert views == [
            ("/app", "Account · Kettle & Co"),
            ("/app/orders", "Orders · Kettle & Co"),
            ("/app/settings", "Settings · Kettle & Co"),
            ("/app/orders", "Settings · Kettle & Co"),  # the demo app keeps the title on Back
        ]
    finally:
        await context.close()


async def test_consecutive_messages_are_grouped_and_a_bot_looks_like_a_bot(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    w = await Widget.visit(context, shop.url + "/pricing")
    ana = await agent(stack)
    try:
        await w.open()
        await w.say("Do you have it in red?")
        cid = await w.conversation_id()
        await event_in(ana, cid, "message.created")
        for text in ("Let me check.", "Yes, in red and in blue."):
            await ana.send(text, cid)
        first, last = w.bubble("Let me check."), w.bubble("Yes, in red and in blue.")
        await expect(last).to_be_visible()
        # One name (on the first), one avatar and one time (on the last).
        await expect(first.locator(".who")).to_be_visible()
        await expect(last.locator(".who")).to_be_hidden()
        assert await first.locator(".av").evaluate("a => getComputedStyle(a).visibility") == "hidden"
        assert await last.locator(".av").evaluate("a => getComputedStyle(a).visibility") == "visible"
        await expect(first.locator(".me")).to_be_hidden()
        await expect(last.locator(".me")).to_be_visible()
        # The visitor's own run is grouped too, whatever its receipts redraw.
        await w.say("Great.")
        await w.say("I will take the red one.")
        await expect(w.bubble("I will take the red one.")).to_contain_text("Sent")
        await expect(w.bubble("Great.").locator(".me")).to_be_hidden()
        await expect(w.bubble("I will take the red one.").locator(".me")).to_be_visible()
        assert w.errors == []
    finally:
        await ana.close()
        await context.close()


async def test_the_header_shows_who_answers_and_when_they_are_back(stack: Stack, browser: Browser) -> None:
    from datetime import UTC, datetime, timedelta

    from server.sites.hours import DAYS
    from tests.browser.conftest import Shop

    back = datetime.now(UTC) + timedelta(days=2)
    hours = {"timezone": "UTC", "weekly": {DAYS[back.weekday()]: [["09:00", "10:00"]]}}
    stack.create_agent()
    closed = Shop(stack.visitor_url, stack.create_site(proactive={"business_hours": hours}))
    context = await browser.new_context(locale="en-GB", timezone_id="UTC")
    try:
        w = await Widget.visit(context, closed.url + "/")
        await w.open()
        head = w.panel.locator(".h")
        await expect(head.locator(".tm .av").first).to_have_text("A")  # the test agents' "Agent …"
        weekday = back.strftime("%A")
        await expect(head.locator(".rt")).to_have_text(re.compile(f"^Back {weekday} 09:00( AM)?$"))
        assert w.errors == []
    finally:
        await context.close()
        closed.stop()


async def test_with_no_hours_and_nobody_online_the_header_says_hours(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    try:
        w = await Widget.visit(context, shop.url + "/")
        await w.open()
        await expect(w.panel.locator(".h .rt")).to_have_text(
            re.compile("Usually replies in a few (hours|minutes)")
        )
    finally:
        await context.close()
