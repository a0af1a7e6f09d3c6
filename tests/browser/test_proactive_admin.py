"""The proactive admin pages in Chromium: create, publish, pause, resume, clone, delete, sort, why."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.widget import Widget
from tests.harness import Stack
from tests.helpers import sign_in as http_sign_in

pytestmark = pytest.mark.anyio


async def sign_in(page: Page, stack: Stack, role: str = "admin") -> None:
    email, password = stack.create_agent(role=role)
    await page.goto(stack.visitor_url + "/login?next=/admin/proactive")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


def row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("tbody tr", has=page.get_by_role("link", name=name, exact=True))


async def menu(page: Page, name: str) -> list[str]:
    await row(page, name).get_by_role("button", name=f"Options for {name}").click()
    items = row(page, name).get_by_role("menu").get_by_role("menuitem")
    return [t.strip() for t in await items.all_inner_texts()]


async def test_an_admin_manages_messages_through_their_whole_life(stack: Stack, browser: Browser) -> None:
    site = stack.create_site()
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await sign_in(page, stack)
        await page.goto(f"{stack.visitor_url}/admin/proactive?site={site.key}")
        await expect(page.locator("tbody tr")).to_have_count(3)  # the predefined drafts
        await expect(page.get_by_role("link", name="Welcome on the pricing page")).to_be_visible()

        await page.get_by_label("New message").fill("Spring sale <b>now</b>")
        await page.get_by_role("button", name="Add").click()
        await expect(page.get_by_role("heading", name="Spring sale <b>now</b>")).to_be_visible()
        await page.get_by_label("Text", exact=True).fill("Twenty percent off kettles today")
        await expect(page.locator("#preview-text")).to_have_text(
            "Twenty percent off kettles today"
        )  # live preview
        await page.locator("input[name=collect][value=email]").check()
        await page.get_by_label("Tags for its conversations (comma-separated)").fill("sale, spring")
        await page.get_by_label("Trigger").select_option("time_on_page")
        await page.get_by_label("Seconds", exact=True).fill("5")
        await page.get_by_text("Advanced: the conditions as JSON").click()
        await page.locator("textarea[name=conditions]").fill(
            '{"all": [{"field": "page.path", "op": "nope"}]}'
        )
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("alert")).to_contain_text("page.path takes is, is_not")
        await page.locator("textarea[name=conditions]").fill(
            '{"all": [{"field": "page.path", "op": "starts_with", "value": "/product"}]}'
        )
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        await expect(page.locator("#preview-text")).to_have_text("Twenty percent off kettles today")
        await page.get_by_role("button", name="Publish").click()
        await expect(page.get_by_role("status")).to_contain_text("published")
        await expect(row(page, "Spring sale <b>now</b>").locator(".status")).to_have_text("Live")
        assert await menu(page, "Spring sale <b>now</b>") == ["Edit", "Clone", "Pause", "Delete"]

        await row(page, "Spring sale <b>now</b>").get_by_role("menuitem", name="Pause").click()
        await expect(row(page, "Spring sale <b>now</b>").locator(".status")).to_have_text("Paused")
        assert await menu(page, "Spring sale <b>now</b>") == ["Edit", "Clone", "Resume", "Delete"]
        await row(page, "Spring sale <b>now</b>").get_by_role("menuitem", name="Resume").click()
        await expect(row(page, "Spring sale <b>now</b>").locator(".status")).to_have_text("Live")

        await menu(page, "Spring sale <b>now</b>")
        await row(page, "Spring sale <b>now</b>").get_by_role("menuitem", name="Clone").click()
        await expect(page.get_by_role("heading", name=re.compile("Copy of Spring sale"))).to_be_visible()
        await page.get_by_role("link", name="All proactive messages").click()
        assert await menu(page, "Copy of Spring sale <b>now</b>") == ["Edit", "Clone", "Publish", "Delete"]
        await row(page, "Copy of Spring sale <b>now</b>").get_by_role("menuitem", name="Delete").click()
        await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        await expect(page.get_by_role("status")).to_contain_text("deleted")
        await expect(page.locator("tbody tr")).to_have_count(4)

        # A draft that cannot go live says why.
        await menu(page, "Greeting for returning visitors")
        await row(page, "Greeting for returning visitors").get_by_role("menuitem", name="Publish").click()
        await expect(row(page, "Greeting for returning visitors").locator(".status")).to_have_text("Live")

        # Sorting by every column, both ways.
        for column, label in [
            ("name", "Name"),
            ("status", "Status"),
            ("channel", "Channel"),
            ("sent", "Sent"),
            ("opened", "Opened"),
            ("replied", "Replied"),
            ("updated_at", "Updated at"),
        ]:
            for _ in range(2):
                await page.get_by_role("link", name=re.compile(f"^{label}")).click()
                await expect(page).to_have_url(re.compile(f"sort={column}"))
                sort = await page.locator(f"th:has(a[data-sort={column}])").get_attribute("aria-sort")
                assert sort in ("ascending", "descending")
                if column == "name":
                    names = [
                        n.strip() for n in await page.locator("tbody tr td:first-child a").all_inner_texts()
                    ]
                    expected = sorted(names, key=str.casefold, reverse=sort == "descending")
                    assert names == expected
        assert errors == []
    finally:
        await context.close()


async def test_the_why_view_explains_each_live_message(stack: Stack, browser: Browser) -> None:
    from tests.browser.conftest import Shop

    site = stack.create_site()
    shop = Shop(stack.visitor_url, site)
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await sign_in(page, stack)
        await page.goto(f"{stack.visitor_url}/admin/proactive?site={site.key}")
        for name in ("Welcome on the pricing page", "Greeting for returning visitors"):
            await menu(page, name)
            await row(page, name).get_by_role("menuitem", name="Publish").click()
            await expect(row(page, name).locator(".status")).to_have_text("Live")

        # Test values: a first visit, 20 s on the pricing page.
        await page.get_by_role("link", name="Why did it fire?").click()
        await page.get_by_label("Page URL").fill("https://shop.example/pricing")
        await page.get_by_label("Seconds on the page").fill("20")
        await page.get_by_label("Visits").fill("1")
        await page.get_by_role("button", name="Check these values").click()
        pricing = page.get_by_role("region", name="Welcome on the pricing page")
        await expect(pricing.get_by_role("heading")).to_have_text("Welcome on the pricing page: would fire")
        await expect(pricing.locator("tbody tr")).to_contain_text(["page.path starts with"])
        await expect(pricing.locator("tbody tr td:nth-child(3)")).to_have_text(["/pricing"])
        returning = page.get_by_role("region", name="Greeting for returning visitors")
        await expect(returning.get_by_role("heading")).to_have_text(
            "Greeting for returning visitors: would not fire"
        )
        await expect(returning.locator("tbody tr td:nth-child(4)")).to_have_text(["no"])

        # A real visitor: they saw the pricing message already, so frequency says no.
        visitor = await Widget.visit(await browser.new_context(), f"{shop.url}/pricing")
        await visitor.connected()
        await expect(visitor.page.locator("[data-parley] .pv")).to_be_visible(timeout=15_000)
        await page.goto(f"{stack.visitor_url}/admin/proactive/why?site={site.key}")
        # Picked by name, page and relative time, not by id and ISO time.
        await page.get_by_label("Find a visitor").fill("pricing")
        await page.get_by_role("button", name="Find").click()
        found = page.get_by_role("group", name="Visitors matching “pricing”")
        await expect(found.get_by_role("radio")).to_have_count(1)
        await expect(found).to_contain_text(re.compile(r"(Visitor from \w|Anonymous visitor)"))
        await expect(found).to_contain_text("on /pricing · seen just now")
        await expect(found.get_by_role("radio")).to_be_checked()
        await page.get_by_role("button", name="Check", exact=True).click()
        pricing = page.get_by_role("region", name="Welcome on the pricing page")
        await expect(pricing).to_contain_text("once per visit: already shown to this visitor in this visit")
        await expect(pricing).to_contain_text("1 of 1 proactive message(s) shown in this visit")
        await visitor.page.context.close()
    finally:
        await context.close()
        shop.stop()


async def test_agents_may_not_and_forged_forms_are_refused(stack: Stack, browser: Browser) -> None:
    import httpx

    site = stack.create_site()
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await sign_in(page, stack, role="agent")
        answer = await page.goto(f"{stack.visitor_url}/admin/proactive?site={site.key}")
        assert answer is not None and answer.status == 403
        await expect(page.get_by_role("heading")).to_have_text("Not allowed")
    finally:
        await context.close()
    email, password = stack.create_agent(role="admin")
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        await http_sign_in(http, email, password)
        listed = (await http.get(f"/api/v1/sites/{site.key}/proactive")).json()["messages"]
        forged = await http.post(f"/admin/proactive/{listed[0]['id']}/publish", data={"csrf": "0" * 64})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
        cross = await http.post(
            f"/admin/proactive/{listed[0]['id']}/publish",
            data={"csrf": "x"},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
        assert (await http.get(f"/api/v1/proactive/{listed[0]['id']}")).json()["status"] == "draft"


async def test_the_condition_rows_write_the_rules(stack: Stack, browser: Browser) -> None:
    import httpx

    site = stack.create_site()
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await sign_in(page, stack)
        await page.goto(f"{stack.visitor_url}/admin/proactive?site={site.key}")
        await page.get_by_role("link", name="Welcome on the pricing page").click()
        builder = page.locator("#builder")
        await expect(builder.get_by_label("Field")).to_have_value("page.path")
        await expect(builder.get_by_label("Operator")).to_have_value("starts_with")
        await expect(builder.get_by_label("Value")).to_have_value("/pricing")
        await builder.get_by_role("button", name="Add condition").click()
        await builder.get_by_label("Field").nth(1).select_option("visits")
        await builder.get_by_label("Operator").nth(1).select_option("gt")
        await builder.get_by_label("Value").nth(1).fill("2")
        await builder.get_by_label("Match").select_option("any")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        message_id = page.url.rsplit("/", 1)[1].split("?")[0]
        cookies = {c["name"]: c["value"] for c in await context.cookies()}
        async with httpx.AsyncClient(base_url=stack.visitor_url, cookies=cookies) as http:
            saved = (await http.get(f"/api/v1/proactive/{message_id}")).json()
        assert saved["conditions"] == {
            "any": [
                {"field": "page.path", "op": "starts_with", "value": "/pricing"},
                {"field": "visits", "op": "gt", "value": 2},
            ]
        }
        await builder.get_by_role("button", name="Remove condition").first.click()
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        await expect(builder.get_by_label("Field")).to_have_value("visits")
    finally:
        await context.close()


async def test_the_builder_nests_groups_with_inputs_that_fit_each_field(
    stack: Stack, browser: Browser
) -> None:
    import httpx

    site = stack.create_site()
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await sign_in(page, stack)
        await page.goto(f"{stack.visitor_url}/admin/proactive?site={site.key}")
        await page.get_by_role("link", name="Welcome on the pricing page").click()
        builder = page.locator("#builder")
        await expect(page.locator("#conditions")).to_be_hidden()  # JSON is the advanced view
        await builder.get_by_role("button", name="Add group").click()
        inner = builder.get_by_role("group", name="A group of conditions")
        await expect(inner.get_by_label("Match")).to_have_value("any")
        await inner.get_by_label("Field").select_option("device")
        await expect(inner.get_by_label("Operator")).to_have_value("is")
        assert await inner.get_by_label("Value").evaluate("e => e.tagName") == "SELECT"  # a list, not a box
        await inner.get_by_label("Value").select_option("mobile")
        await inner.get_by_role("button", name="Add condition").click()
        await inner.get_by_label("Field").nth(1).select_option("time_on_page")
        await inner.get_by_label("Operator").nth(1).select_option("gt")
        await inner.get_by_label("Value").nth(1).fill("30")
        await expect(inner.locator(".cond").nth(1)).to_contain_text("seconds")
        await inner.get_by_label("Field").nth(1).select_option("returning")
        await expect(inner.get_by_label("Operator").nth(1).locator("option")).to_have_count(2)  # is, is not
        await inner.get_by_label("Value").nth(1).select_option("false")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        message_id = page.url.rsplit("/", 1)[1].split("?")[0]
        cookies = {c["name"]: c["value"] for c in await context.cookies()}
        async with httpx.AsyncClient(base_url=stack.visitor_url, cookies=cookies) as http:
            saved = (await http.get(f"/api/v1/proactive/{message_id}")).json()
        assert saved["conditions"] == {
            "all": [
                {"field": "page.path", "op": "starts_with", "value": "/pricing"},
                {
                    "any": [
                        {"field": "device", "op": "is", "value": "mobile"},
                        {"field": "returning", "op": "is", "value": False},
                    ]
                },
            ]
        }

        # Editing the JSON under Advanced rebuilds the rows.
        await page.get_by_text("Advanced: the conditions as JSON").click()
        await page.locator("#conditions").fill(
            '{"any": [{"field": "event.added_to_cart", "op": "gt", "value": 0}]}'
        )
        await page.locator("#conditions").blur()
        await expect(builder.get_by_label("Field")).to_have_value("event.")
        await expect(builder.get_by_label("Event name")).to_have_value("added_to_cart")
        await expect(builder.get_by_label("Match")).to_have_value("any")
    finally:
        await context.close()


async def test_the_counters_are_drawn_per_day(stack: Stack, browser: Browser) -> None:
    from datetime import UTC, datetime

    from tests.helpers import hello, raw_visitor
    from tests.proactive.helpers import Admin

    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        made = await admin.live(site, text="Hi there", trigger={"type": "page_load"})
    finally:
        await admin.close()
    sock = await raw_visitor(stack, site)
    await hello(sock, site, page={"url": "https://shop.example/"})
    shown = await sock.expect("proactive.show")
    await sock.send({"type": "proactive.opened", "delivery_id": shown["delivery_id"]})
    await sock.send({"type": "ping"})
    await sock.expect("pong")
    await sock.close()
    page = await browser.new_page()
    await sign_in(page, stack)
    await page.goto(f"{stack.visitor_url}/admin/proactive/{made['id']}")
    chart = page.get_by_role("img", name="Sent, opened and replied per day")
    await expect(chart).to_be_visible()
    await expect(chart.locator("desc")).to_have_text("Over 1 day: 1 sent, 1 opened, 0 replied.")
    today = datetime.now(UTC).date().isoformat()
    titles = await chart.locator("rect title").all_text_contents()
    assert titles == [f"{today}: 1 sent", f"{today}: 1 opened", f"{today}: 0 replied"]


async def test_the_editor_shows_only_the_fields_that_apply(stack: Stack, browser: Browser) -> None:
    from tests.proactive.helpers import Admin

    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        made = await admin.create(site, trigger={"type": "page_load"})
    finally:
        await admin.close()
    page = await browser.new_page()
    await sign_in(page, stack)
    await page.goto(f"{stack.visitor_url}/admin/proactive/{made['id']}")
    seconds, event = page.get_by_label("Seconds", exact=True), page.get_by_label("Event name", exact=True)
    await expect(seconds).to_be_hidden()
    await expect(event).to_be_hidden()
    await page.get_by_label("Trigger").select_option("time_on_page")
    await expect(seconds).to_be_visible()
    await expect(event).to_be_hidden()
    await page.get_by_label("Trigger").select_option("event")
    await expect(event).to_be_visible()
    await expect(seconds).to_be_hidden()
    bot_answer, follow_up = page.get_by_label("Bot answer"), page.get_by_label("Follow-up")
    await expect(bot_answer).to_be_hidden()
    await expect(follow_up).to_be_visible()
    await page.get_by_label("Bot", exact=True).check()
    await expect(bot_answer).to_be_visible()
    await expect(follow_up).to_be_hidden()
    await expect(page.get_by_role("group", name="Ask for")).to_be_hidden()
