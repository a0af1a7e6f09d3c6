"""The agent workspace in Chromium, with a visitor on the demo shop in a second browser context."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from server.channels.store import site_channels
from tests.browser.conftest import Shop, signed_in_page
from tests.browser.widget import Widget
from tests.harness import Stack
from tests.helpers import sign_in, visitor, writer

pytestmark = pytest.mark.anyio

EVIL_NAME = '<img src=x onerror="window.pwned=1"><b>Rita</b>'


class Desk:
    """An agent's workspace page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.list = page.locator("#list")
        self.badge = page.locator("#badge")
        self.messages = page.locator("#messages")
        self.composer = page.get_by_label("Reply", exact=True)
        self.state = page.locator("#conv-state")
        self.contact = page.locator("#contact")
        self.search = page.get_by_label("Search conversations")

    @classmethod
    async def open(cls, context: BrowserContext, stack: Stack, email: str, password: str) -> Desk:
        desk = cls(await signed_in_page(context, stack, email, password, "/agent"))
        await expect(desk.page.locator("#net")).to_have_text("Online")
        return desk

    def row(self, text: str) -> Locator:
        return self.list.locator("li", has_text=text)

    async def tab(self, name: str) -> None:
        await self.page.get_by_role("button", name=name, exact=True).click()


async def _visitor(context: BrowserContext, shop: Shop, site_key: str | None = None, **who: str) -> Widget:
    url = shop.url + "/pricing" + (f"?site={site_key}" if site_key else "")
    w = await Widget.visit(context, url)
    if who:
        await w.page.evaluate("(who) => Parley('identify', who)", who)
    return w


async def test_live_inbox_markers_badge_replies_and_read_receipts(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    email, password = stack.create_agent()
    visitor_context = await browser.new_context()
    agent_context = await browser.new_context()
    try:
        desk = await Desk.open(agent_context, stack, email, password)
        await expect(desk.badge).to_be_hidden()

        w = await _visitor(visitor_context, shop, name=EVIL_NAME, email="rita@example.com")
        await w.open()
        await w.say("Hi <script>window.pwned=2</script> is the hotel plan monthly?")

        # Live, without a reload: the conversation arrives unread (blue), the badge and title count it.
        row = desk.row("Rita")
        await expect(row).to_have_class(re.compile(r"\bunread\b"))
        await expect(row.locator(".name")).to_have_text(EVIL_NAME)
        await expect(desk.badge).to_have_text("1")
        await expect(desk.page).to_have_title("(1) Conversations · Parley")

        # Opened: read but unanswered (grey); still counted until answered.
        await row.get_by_role("button").click()
        await expect(desk.messages).to_contain_text(
            "Hi <script>window.pwned=2</script> is the hotel plan monthly?"
        )
        await expect(row).to_have_class(re.compile(r"\bunanswered\b"))
        await expect(desk.badge).to_have_text("1")
        # The visitor sees their message read.
        await expect(w.bubble("hotel plan")).to_contain_text("Read")
        # The contact panel: name, email, the page they wrote from, device, visits, pages seen.
        await expect(desk.contact).to_contain_text("rita@example.com")
        await expect(desk.contact).to_contain_text("Pricing · Kettle & Co")
        await expect(desk.contact).to_contain_text("Chrome")
        await expect(desk.contact.locator("h2")).to_have_text(EVIL_NAME)

        # The visitor typing shows; the agent replies; writing assigns the agent.
        await w.composer.fill("and yearly?")
        await expect(desk.page.locator("#typing")).to_have_text("The visitor is typing…")
        await desk.composer.fill("Yes, <b>billed</b> monthly.")
        await desk.composer.press("Enter")
        await expect(w.bubble("billed")).to_contain_text("Yes, <b>billed</b> monthly.")
        await expect(row).not_to_have_class(re.compile(r"unread|unanswered"))
        await expect(desk.badge).to_be_hidden()
        await expect(desk.page).to_have_title("Conversations · Parley")
        await expect(row.locator(".assignee")).not_to_have_text("Unassigned")
        await expect(desk.page.locator("#assignee")).to_contain_text("(me)")
        await desk.tab("Mine")
        await expect(desk.row("Rita")).to_be_visible()
        # The visitor's panel is open, so the reply is read: two ticks and the time.
        await expect(desk.messages.locator(".msg.agent")).to_contain_text(re.compile(r"✓✓ Read \d\d:\d\d"))

        # Nothing anyone typed ran as markup, on either side.
        for page in (desk.page, w.page):
            assert await page.evaluate("window.pwned") is None
        assert await desk.page.locator("#list b, #messages b, #contact b, #messages script").count() == 0
        assert desk.errors == [] and w.errors == []
    finally:
        await visitor_context.close()
        await agent_context.close()


async def test_close_reopen_snooze_notes_and_canned_responses(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    email, password = stack.create_agent(role="admin")
    visitor_context = await browser.new_context()
    agent_context = await browser.new_context()
    try:
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            made = await http.post(
                "/api/v1/canned-responses",
                json={"shortcut": "ship", "text": "We ship worldwide within 3 days."},
            )
            assert made.status_code == 201, made.text
        desk = await Desk.open(agent_context, stack, email, password)
        w = await _visitor(visitor_context, shop, name="Bruno Close")
        await w.open()
        await w.say("Do you ship to Spain?")
        row = desk.row("Bruno Close")
        await row.get_by_role("button").click()
        await expect(desk.messages).to_contain_text("Do you ship to Spain?")

        # A canned response by its shortcut: "/sh", Tab inserts it.
        await desk.composer.fill("/sh")
        await expect(desk.page.get_by_role("listbox", name="Canned responses")).to_contain_text("/ship")
        await desk.composer.press("Tab")
        await expect(desk.composer).to_have_value("We ship worldwide within 3 days.")
        await desk.composer.press("Enter")
        await expect(w.bubble("We ship worldwide")).to_be_visible()

        # An internal note: shown to agents, never to the visitor.
        await desk.page.get_by_role("button", name="Internal note").click()
        await desk.page.get_by_label("Internal note", exact=True).fill("Customer asked twice; VIP")
        await desk.page.get_by_label("Internal note", exact=True).press("Enter")
        await expect(desk.messages.locator(".msg.note")).to_contain_text("Customer asked twice; VIP")
        await desk.page.get_by_role("button", name="Reply", exact=True).click()

        # Close: when and by whom; gone from Open, listed under Closed.
        await desk.page.get_by_role("button", name="Close", exact=True).click()
        await expect(desk.state).to_contain_text(re.compile(r"Closed by .+ on "))
        await expect(desk.row("Bruno Close")).to_have_count(0)
        await desk.tab("Closed")
        await expect(desk.row("Bruno Close")).to_be_visible()
        await desk.tab("Open")
        # The visitor writing reopens it: back in Open, live.
        await w.say("One more thing")
        await expect(desk.row("Bruno Close")).to_be_visible()
        await expect(desk.state).to_have_text("")
        await expect(w.log).not_to_contain_text("VIP")

        # Snooze: out of Open and Closed, under Snoozed until then.
        await desk.page.get_by_role("button", name="Snooze", exact=True).click()
        await desk.page.get_by_role("menuitem", name="1 hour").click()
        await expect(desk.state).to_contain_text("Snoozed until")
        await expect(desk.row("Bruno Close")).to_have_count(0)
        await desk.tab("Closed")
        await expect(desk.row("Bruno Close")).to_have_count(0)
        await desk.tab("Snoozed")
        await expect(desk.row("Bruno Close")).to_be_visible()
        assert desk.errors == [] and w.errors == []
    finally:
        await visitor_context.close()
        await agent_context.close()


async def test_search_as_you_type(stack: Stack, shop: Shop, browser: Browser) -> None:
    email, password = stack.create_agent()
    contexts = [await browser.new_context() for _ in range(3)]
    try:
        people = [
            {"name": "Carla Mendes", "email": "carla.mendes@example.org", "phone": "+351 912-345-678"},
            {"name": "Carlos Dias", "email": "dias@shop.example", "phone": "(21) 5555-0101"},
        ]
        for context, who in zip(contexts, people, strict=False):
            w = await _visitor(context, shop, **who)
            await w.open()
            await w.say(f"Hello from {who['name']}")
            await expect(w.bubble("Hello from")).to_contain_text("Sent")
        desk = await Desk.open(contexts[2], stack, email, password)
        for query, expected, absent in [
            ("carl", ["Carla Mendes", "Carlos Dias"], []),
            ("carla m", ["Carla Mendes"], ["Carlos Dias"]),
            ("mendes@exa", ["Carla Mendes"], ["Carlos Dias"]),
            ("912 345", ["Carla Mendes"], ["Carlos Dias"]),
            ("5555-0101", ["Carlos Dias"], ["Carla Mendes"]),
        ]:
            await desk.search.fill(query)
            for name in expected:
                await expect(desk.row(name)).to_be_visible()
            for name in absent:
                await expect(desk.row(name)).to_have_count(0)
        await desk.search.fill("zzzz")
        await expect(desk.page.locator("#empty")).to_have_text("No conversation matches “zzzz”.")
    finally:
        for context in contexts:
            await context.close()


async def test_permissions_revocation_and_csrf_in_the_browser(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    admin_email, admin_password = stack.create_agent(role="admin")
    email, password = stack.create_agent()
    assert stack.db is not None
    sdk_channel = next(
        c.id for c in stack.db.write_sync(lambda c: site_channels(c, shop.site.id)) if c.kind == "sdk"
    )
    visitor_context = await browser.new_context()
    agent_context = await browser.new_context()
    try:
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, admin_email, admin_password)
            team = (await http.get("/api/v1/team")).json()["users"]
            agent_id = next(u["id"] for u in team if u["email"] == email)
            done = await http.patch(
                f"/api/v1/users/{agent_id}", json={"all_channels": False, "channels": [sdk_channel]}
            )
            assert done.status_code == 200

            desk = await Desk.open(agent_context, stack, email, password)
            w = await _visitor(visitor_context, shop, name="Dora Web")
            await w.open()
            await w.say("Only the web team should see this")
            cid = await w.conversation_id()
            # The web conversation never reaches this agent: not live, not listed, 403 by URL.
            await desk.page.wait_for_timeout(1500)
            await expect(desk.row("Dora Web")).to_have_count(0)
            status = await desk.page.evaluate(
                "async (cid) => (await fetch(`/api/v1/conversations/${cid}/events`)).status", cid
            )
            assert status == 403
            # A state change without the page's CSRF token is refused, even from the page itself.
            forged = await desk.page.evaluate(
                """async (cid) => {
                    const r = await fetch(`/api/v1/conversations/${cid}`, {
                        method: "PATCH",
                        headers: {"Content-Type": "application/json"},
                        body: JSON.stringify({status: "closed"}),
                    });
                    return [r.status, (await r.json()).code];
                }""",
                cid,
            )
            assert forged == [403, "csrf_failed"]
            # No Proactive messages in this agent's menu.
            await expect(desk.page.get_by_role("link", name="Proactive messages")).to_have_count(0)

            # Disabled: the open workspace is closed and sent to sign in.
            await http.patch(f"/api/v1/users/{agent_id}", json={"is_active": False})
            await expect(desk.page).to_have_url(re.compile(r"/login\?next=/agent$"), timeout=10_000)
    finally:
        await visitor_context.close()
        await agent_context.close()


# A one-pixel PNG.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201d5a8a4c30000000049454e44ae426082"
)


async def test_attachments_both_ways(stack: Stack, shop: Shop, browser: Browser) -> None:
    email, password = stack.create_agent()
    visitor_context = await browser.new_context()
    agent_context = await browser.new_context()
    try:
        desk = await Desk.open(agent_context, stack, email, password)
        w = await _visitor(visitor_context, shop, name="Eva Files")
        await w.open()
        await w.say("The kettle arrived dented")
        await w.page.locator("[data-parley] input[type=file]").set_input_files(
            {"name": "dent.png", "mimeType": "image/png", "buffer": PIXEL}
        )
        # The visitor sees their picture sent; the agent sees it in the conversation.
        await expect(w.page.locator("[data-parley] .fl img")).to_have_attribute("alt", "dent.png")
        await desk.row("Eva Files").get_by_role("button").click()
        picture = desk.messages.locator(".msg.visitor img")
        await expect(picture).to_have_attribute("alt", "dent.png")
        # The element can be in the page before its bytes are: wait for the load, not a time.
        await picture.evaluate("i => i.complete || new Promise(done => i.addEventListener('load', done))")
        assert await picture.evaluate("img => img.complete && img.naturalWidth") == 1

        # The agent sends a text file; the visitor gets a link to it.
        await desk.page.locator("#file").set_input_files(
            {
                "name": "<img src=x onerror=alert(1)>returns.txt",
                "mimeType": "text/plain",
                "buffer": b"Send it back within 30 days.",
            }
        )
        await expect(desk.messages.locator(".msg.agent .file")).to_contain_text("returns")
        link = w.page.locator("[data-parley] .fl", has_text="returns")
        await expect(link).to_have_text("📎 <img src=x onerror=alert(1)>returns.txt (1 KB)")
        href = await link.get_attribute("href")
        assert href is not None and href.startswith(stack.visitor_url + "/api/v1/attachments/")
        # A refused file says why, in the widget.
        await w.page.locator("[data-parley] input[type=file]").set_input_files(
            {"name": "page.html", "mimeType": "text/html", "buffer": b"<script>alert(1)</script>"}
        )
        await expect(w.counter).to_contain_text("not accepted")
        assert desk.errors == [] and w.errors == []
    finally:
        await visitor_context.close()
        await agent_context.close()


async def test_the_settings_page_sets_the_inbox_canned_responses_and_the_team(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    email, password = stack.create_agent(role="admin")
    context = await browser.new_context()
    try:
        desk = await Desk.open(context, stack, email, password)
        await desk.page.get_by_role("link", name="Settings").click()
        page = desk.page
        await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
        await page.goto(stack.agent_url + f"/admin/settings?site={shop.site.key}")

        # Inbox settings: a bad value is named, a good one saved.
        form = page.locator("#inbox")
        await form.get_by_role("textbox", name="Greeting").fill("Welcome <b>in</b>!")
        await form.get_by_label("Routing").select_option("round_robin")
        await form.get_by_label("Keep per conversation").fill("10")
        await form.get_by_role("button", name="Save inbox settings").click()
        await expect(form.get_by_role("status")).to_contain_text("history_cap")
        await expect(form.get_by_label("Keep per conversation")).to_have_attribute("aria-invalid", "true")
        await form.get_by_label("Keep per conversation").fill("500")
        await form.get_by_role("button", name="Save inbox settings").click()
        await expect(form.get_by_role("status")).to_have_text("Saved.")
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            saved = (await http.get(f"/api/v1/sites/{shop.site.key}/inbox-settings")).json()["inbox"]
            assert (saved["greeting"], saved["routing"], saved["history_cap"]) == (
                "Welcome <b>in</b>!",
                "round_robin",
                500,
            )
            await http.patch(
                f"/api/v1/sites/{shop.site.key}/inbox-settings", json={"greeting": "", "routing": "none"}
            )

        # A canned response, added and shown as text.
        canned = page.locator("#canned-new")
        await canned.get_by_label("Shortcut").fill("thanks")
        await canned.get_by_label("Text").fill("Thanks <i>a lot</i>!")
        await canned.get_by_role("button", name="Add").click()
        await expect(page.locator("#canned")).to_contain_text("Thanks <i>a lot</i>!")

        # The team: add an agent, limit them to the mobile channel, then disable them.
        team = page.locator("#team-new")
        await team.get_by_label("Name").fill("Nina New")
        await team.get_by_label("Email").fill("nina@test.example")
        await team.get_by_label("Password").fill("nina-password")
        await team.get_by_role("button", name="Add to the team").click()
        row = page.locator("#team tr", has_text="Nina New")
        await expect(row).to_contain_text("offline")
        await row.get_by_label("All channels for Nina New").uncheck()
        await row.get_by_label("Mobile SDK for Nina New").check()
        await expect(row.get_by_label("Mobile SDK for Nina New")).to_be_checked()
        await expect(row.get_by_label("Web widget for Nina New")).not_to_be_checked()
        await row.get_by_role("button", name="Disable").click()
        confirm = page.get_by_role("dialog")
        await expect(confirm).to_contain_text("Disable Nina New?")
        await confirm.get_by_role("button", name="Disable").click()
        await expect(row).to_contain_text("disabled")
        # The signed-in admin is marked, and offered no way to disable themselves.
        mine = page.locator("#team tr", has_text="You, signed in now")
        await expect(mine).to_have_count(1)
        await expect(mine).to_contain_text("active · you")
        await expect(mine.get_by_role("button", name="Disable")).to_have_count(0)
        assert desk.errors == []
    finally:
        await context.close()


async def test_the_keyboard_model_and_menus_that_act_only_on_a_choice(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    people = []
    for name in ("Kim Keys", "Lee Keys"):
        people.append(await writer(stack, site, f"Hello from {name}", name=name))
    context = await browser.new_context()
    try:
        desk = await Desk.open(context, stack, email, password)
        page = desk.page
        await expect(desk.row("Lee Keys")).to_be_visible()
        # Nothing open: an empty state, and no conversation controls to Tab into.
        await expect(page.locator("#nothing")).to_be_visible()
        for control in ("#view", "#assignee", "#snooze", "#toggle-status", "#composer"):
            await expect(page.locator(control)).to_be_hidden()

        # j and the arrows move a visible focus in the list; nothing opens until Enter.
        await page.locator("body").press("j")
        first = desk.list.get_by_role("button").first
        await expect(first).to_be_focused()
        assert await first.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
        await page.keyboard.press("ArrowDown")
        second = desk.list.get_by_role("button").nth(1)
        await expect(second).to_be_focused()
        await page.keyboard.press("k")
        await expect(first).to_be_focused()
        await expect(page.locator("#view")).to_be_hidden()
        # One accessible name, with pauses, rather than the parts run together.
        name = await first.text_content()
        assert name and re.match(r"^(Kim|Lee) Keys, New, .+, Hello from \w+ Keys, Unassigned$", name), name
        await page.keyboard.press("Enter")
        await expect(page.locator("#conv-title")).to_have_text(name.split(",")[0])
        await expect(desk.composer).to_be_focused()
        # An app contact who gave a name and no phone: the name is not shown as a phone.
        await expect(desk.contact.locator("dd", has_text=name.split(",")[0])).to_have_count(1)
        await expect(desk.contact.locator("dt", has_text="Phone")).to_have_count(0)
        # Escape leaves the reply box for the list, so the next k is not typed into it.
        await page.keyboard.press("Escape")
        await expect(first).to_be_focused()
        await page.keyboard.press("k")
        await expect(desk.composer).to_have_value("")

        # Arrow keys on the Assignee and Snooze menus change nothing.
        for menu in ("#assignee", "#snooze"):
            await page.locator(menu).focus()
            await page.keyboard.press("ArrowDown")
            await page.keyboard.press("ArrowUp")
        await expect(page.locator("#assignee")).to_have_text("Assignee: Unassigned")
        # a assigns to me, e closes: each arrives as the conversation's next event.
        await first.focus()
        await page.keyboard.press("a")
        await expect(page.locator("#assignee")).to_contain_text("(me)")
        await page.keyboard.press("e")
        await expect(desk.state).to_contain_text(re.compile(r"Closed by .+ on "))
        assert await desk.messages.get_by_text(re.compile("Snoozed by")).count() == 0

        # A choice in a menu acts: Enter on an item.
        await page.locator("#snooze").click()
        await expect(page.get_by_role("menuitem", name="1 hour")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("menu", name="Snooze until")).to_be_hidden()
        await expect(page.locator("#snooze")).to_be_focused()

        # ? shows the keyboard model; Escape closes it.
        await page.locator("body").press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("Assign the open conversation to me")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        assert desk.errors == []
    finally:
        await context.close()
        for person in people:
            await person.close()


async def test_visitors_get_their_best_name_and_links_work(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    anonymous = await visitor(stack, site, timezone="Europe/Lisbon")
    await anonymous.send("See https://shop.example/p/kettle?x=1 and javascript:alert(1)")
    context = await browser.new_context()
    try:
        desk = await Desk.open(context, stack, email, password)
        row = desk.row("Visitor from Lisbon")
        await expect(row).to_be_visible()
        await row.get_by_role("button").click()
        link = desk.messages.get_by_role("link", name="https://shop.example/p/kettle?x=1")
        await expect(link).to_have_attribute("href", "https://shop.example/p/kettle?x=1")
        await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        await expect(desk.messages.get_by_role("link")).to_have_count(1)  # javascript: stays text
        send = desk.page.get_by_role("button", name="Send", exact=True)
        assert await send.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(29, 78, 216)"
        assert desk.errors == []
    finally:
        await context.close()
        await anonymous.close()


async def test_on_a_phone_the_list_and_the_conversation_take_turns(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    person = await writer(stack, site, "Writing from the bus", name="Pat Phone")
    context = await browser.new_context(viewport={"width": 375, "height": 667})
    try:
        desk = await Desk.open(context, stack, email, password)
        row = desk.row("Pat Phone")
        await row.get_by_role("button").click()
        await expect(desk.messages).to_contain_text("Writing from the bus")
        await expect(desk.list).to_be_hidden()
        assert await desk.composer.evaluate("t => getComputedStyle(t).fontSize") == "16px"
        await desk.page.get_by_role("button", name="Back to the list").click()
        await expect(row).to_be_visible()
        await expect(desk.page.locator("#view")).to_be_hidden()
        assert desk.errors == []
    finally:
        await context.close()
        await person.close()


async def test_every_page_shows_the_conversations_waiting(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    person = await writer(stack, site, "Anyone?")
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/admin/settings?site={site.key}")
        badge = page.get_by_role("navigation", name="Sections").locator("#badge")
        await expect(badge).to_have_text(re.compile(r"^[1-9]\d*$"))
        await expect(page).to_have_title(re.compile(r"^\(\d+\) Settings · Parley$"))
    finally:
        await context.close()
        await person.close()


async def test_the_list_is_updated_in_place_not_fetched_again(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    person = await writer(stack, site, "First question", name="Ivy Inplace")
    context = await browser.new_context()
    try:
        desk = await Desk.open(context, stack, email, password)
        row = desk.row("Ivy Inplace")
        await expect(row).to_contain_text("First question")
        fetched: list[str] = []
        desk.page.on("request", lambda r: fetched.append(r.url) if "/api/v1/inbox?" in r.url else None)
        # The badge is counted again after the event; the list used to be fetched first.
        async with desk.page.expect_request(lambda r: "/api/v1/inbox/badge" in r.url):
            await person.send("Second question")
        await expect(row).to_contain_text("Second question")
        await expect(row).to_have_class(re.compile("unread"))
        assert fetched == []
    finally:
        await context.close()
        await person.close()


async def test_an_agent_tags_the_contact_from_the_contact_panel(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    tina = await writer(stack, site, "Can I order ten kettles?", name="Tina Tagged")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        desk = await Desk.open(context, stack, email, password)
        await desk.row("Tina Tagged").get_by_role("button").click()
        panel = desk.contact
        await expect(panel.get_by_role("list", name="Contact tags")).to_contain_text("None yet.")
        await panel.get_by_label("Add a contact tag").fill("wholesale")
        await panel.get_by_role("button", name="Add", exact=True).click()
        await expect(panel.get_by_role("list", name="Contact tags")).to_contain_text("wholesale")
        assert tina.visitor is not None
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            page = (await http.get(f"/api/v1/contacts/{tina.visitor['id']}")).json()
            assert page["contact"]["tags"] == ["wholesale"]
            await panel.get_by_role("button", name="Remove the tag wholesale").click()
            await expect(panel.get_by_role("list", name="Contact tags")).to_contain_text("None yet.")
            page = (await http.get(f"/api/v1/contacts/{tina.visitor['id']}")).json()
            assert page["contact"]["tags"] == []
        assert desk.errors == []
    finally:
        await context.close()
        await tina.close()


async def test_plus_chat_from_the_contact_panel_writes_to_the_contact(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    quin = await writer(stack, site, "Do you ship to Porto?", name="Quin Panel")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        desk = await Desk.open(context, stack, email, password)
        await desk.row("Quin Panel").get_by_role("button").click()
        await desk.contact.get_by_role("button", name="+ Chat with Quin Panel").click()
        dialog = desk.page.get_by_role("dialog", name="Write to Quin Panel")
        await expect(dialog.get_by_label("Message")).to_be_focused()
        await dialog.get_by_label("Message").fill("Yes, in two days.")
        await dialog.get_by_role("button", name="Send").click()
        await expect(dialog).to_be_hidden()
        await expect(desk.page.locator("#messages")).to_contain_text("Yes, in two days.")
        heard = await quin.next_event("message.created")
        while heard["message"]["author"]["type"] != "agent":
            heard = await quin.next_event("message.created")
        assert heard["message"]["text"] == "Yes, in two days."
        assert desk.errors == []
    finally:
        await context.close()
        await quin.close()
