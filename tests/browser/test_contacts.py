"""The contact base in Chromium: Add contact from the inbox (with a duplicate caught),
the contacts page's search, and a contact's page (tags, history, its conversations)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop, signed_in_page
from tests.browser.widget import Widget
from tests.harness import Stack
from tests.helpers import event_in, writer

pytestmark = pytest.mark.anyio


async def test_an_agent_adds_a_contact_from_the_inbox_and_a_duplicate_is_caught(
    stack: Stack, browser: Browser
) -> None:
    email, password = stack.create_agent()
    stack.create_site()
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, "/agent")
        await page.get_by_role("button", name="Add contact").click()
        dialog = page.get_by_role("dialog", name="Add contact")
        await expect(dialog.get_by_label("Name")).to_be_focused()
        await dialog.get_by_label("Name").fill("Rita <b>Lopes</b>")
        await dialog.get_by_label("Email").fill("rita@")
        await dialog.get_by_role("button", name="Add contact").click()
        await expect(dialog.get_by_role("alert")).to_contain_text("email:")
        await expect(dialog.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
        await dialog.get_by_label("Email").fill("rita.browser@example.com")
        await dialog.get_by_role("button", name="Add contact").click()
        await expect(dialog).to_be_hidden()
        await expect(page.locator(".toast")).to_have_text("Added Rita <b>Lopes</b>.")

        await page.get_by_role("button", name="Add contact").click()
        await dialog.get_by_label("Name").fill("Rita again")
        await dialog.get_by_label("Email").fill("RITA.browser@example.com")
        await dialog.get_by_role("button", name="Add contact").click()
        await expect(dialog.get_by_role("alert")).to_contain_text("already has this email")
        await dialog.get_by_role("link", name="Open that contact").click()
        await expect(page.get_by_role("heading", name="Rita <b>Lopes</b>")).to_be_visible()
    finally:
        await context.close()


async def test_the_contacts_page_finds_tags_and_opens_a_conversation(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    paula = await writer(
        stack, site, "Is the copper kettle back?", name="Paula Prefix", email="paula@kettle.example"
    )
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/contacts?site={site.key}")
        await page.get_by_role("searchbox", name="Search").fill("pau pre")
        await page.get_by_role("button", name="Find").click()
        rows = page.locator("#people tbody tr")
        await expect(rows).to_have_count(1)
        await rows.get_by_role("link", name="Paula Prefix").click()
        await expect(page.get_by_role("heading", name="Paula Prefix")).to_be_visible()

        await page.get_by_label("Add a tag").fill("copper")
        await page.get_by_role("button", name="Add", exact=True).click()
        await expect(page.locator("#tags")).to_contain_text("copper")
        await expect(page.locator("#history")).to_contain_text("changed the tags: none → copper")
        await page.get_by_role("button", name="Remove the tag copper").click()
        await expect(page.locator("#tags")).to_contain_text("No tags yet.")

        await page.get_by_role("link", name="Mobile SDK · open", exact=False).click()
        await expect(page.locator("#messages")).to_contain_text("Is the copper kettle back?")
    finally:
        await context.close()
        await paula.close()


async def test_plus_chat_from_a_contact_reaches_the_visitor(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    nora = await writer(stack, site, "Hello", name="Nora Next")
    context = await browser.new_context()
    try:
        assert nora.visitor is not None
        page = await signed_in_page(
            context, stack, email, password, f"/contacts/{nora.visitor['id']}?site={site.key}"
        )
        await page.get_by_role("button", name="+ Chat").click()
        dialog = page.get_by_role("dialog", name="Write to Nora Next")
        await dialog.get_by_label("Message").fill("We have your size now.")
        await dialog.get_by_role("button", name="Send").click()
        await page.wait_for_url("**/agent#c=*")
        await expect(page.locator("#messages")).to_contain_text("We have your size now.")
        heard = await event_in(nora, page.url.split("#c=")[1], "message.created",
                               lambda f: f["message"]["author"]["type"] == "agent")  # fmt: skip
        assert heard["message"]["text"] == "We have your size now."
    finally:
        await context.close()
        await nora.close()


async def test_an_admin_imports_a_csv_with_a_mapping_and_watches_it(stack: Stack, browser: Browser) -> None:
    from tests.contacts.test_imports import HEADERS, ROWS, csv_bytes

    email, password = stack.create_agent(role="admin")
    site = stack.create_site(contacts={"default_country": "PT"})
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/contacts?site={site.key}")
        await page.get_by_role("link", name="Import CSV").click()
        await page.get_by_label("CSV file").set_input_files(
            {
                "name": "leads.csv",
                "mimeType": "text/csv",
                "buffer": csv_bytes([HEADERS, *ROWS]),
            }
        )
        await page.get_by_role("button", name="Upload").click()
        await expect(page.locator("#read")).to_contain_text(
            "leads.csv: 6 rows, UTF-8, separated by semicolons."
        )
        await expect(page.get_by_label("Column E-mail goes to")).to_have_value("email")
        await page.get_by_label("Column Plano goes to").select_option("attribute")
        await expect(page.get_by_label("Custom field for Plano")).to_have_value("plano")
        await page.get_by_label("Custom field for Plano").fill("plan")

        await page.get_by_role("button", name="Dry run: count what would happen").click()
        line = page.locator("#progress-line")
        await expect(line).to_have_text(
            "Done: 6 of 6 rows. 3 would add, 1 would update, 0 would skip, 2 would reject."
        )
        await expect(page.locator("#bar")).to_have_attribute("value", "6")
        await expect(page.get_by_role("button", name="Import")).to_be_focused()
        await page.get_by_role("button", name="Import").click()
        await expect(line).to_have_text("Done: 6 of 6 rows. 3 added, 1 updated, 0 skipped, 2 rejected.")
        await expect(page.locator("#reasons")).to_contain_text("no name, email, phone or user id")
        async with page.expect_download() as download:
            await page.get_by_role("link", name="Download the 2 rejected rows (CSV)").click()
        assert (await download.value).suggested_filename == "leads-rejected.csv"

        await page.get_by_role("link", name="All contacts").click()
        await expect(page.locator("#people tbody tr")).to_have_count(3)
    finally:
        await context.close()


async def test_agents_see_no_import(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/contacts?site={site.key}")
        await expect(page.get_by_role("button", name="Add contact")).to_be_visible()
        await expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)
        answer = await page.goto(stack.agent_url + f"/contacts/import?site={site.key}")
        assert answer is not None and answer.status == 403
    finally:
        await context.close()


async def test_an_admin_erases_a_contact_after_confirming(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    gone = await writer(stack, site, "Please forget me", name="Gina Gone")
    context = await browser.new_context()
    try:
        assert gone.visitor is not None
        contact = gone.visitor["id"]
        await gone.close()
        page = await signed_in_page(context, stack, email, password, f"/contacts/{contact}?site={site.key}")
        await expect(page.get_by_role("heading", name="Gina Gone")).to_be_visible()
        await expect(
            page.get_by_role("link", name="Download everything stored about them (JSON)")
        ).to_be_visible()
        await page.get_by_role("button", name="Erase").click()
        await page.get_by_role("dialog").get_by_role("button", name="Erase").click()
        await page.wait_for_url(f"**/contacts?site={site.key}")
        await expect(page.locator("#count")).to_have_text("No contacts match.")
    finally:
        await context.close()


async def test_two_contacts_are_merged_with_a_choice_per_field(stack: Stack, browser: Browser) -> None:
    import httpx

    from tests.helpers import sign_in

    email, password = stack.create_agent()
    site = stack.create_site()
    async with httpx.AsyncClient(base_url=stack.agent_url) as http:
        await sign_in(http, email, password)
        made = await http.post(
            f"/api/v1/sites/{site.key}/contacts", json={"name": "R. Merge", "email": "rmerge@example.com"}
        )
        keep = made.json()["contact"]
        await http.post(
            f"/api/v1/sites/{site.key}/contacts", json={"name": "Rosa Merge", "phone": "+351 912 000 444"}
        )
    context = await browser.new_context()
    try:
        page = await signed_in_page(
            context, stack, email, password, f"/contacts/{keep['id']}?site={site.key}"
        )
        await expect(page.get_by_role("heading", name="R. Merge")).to_be_visible()
        await page.get_by_role("button", name="Merge with…").click()
        dialog = page.get_by_role("dialog", name="Merge another contact into this one")
        await dialog.get_by_label("Find the other contact").fill("rosa")
        await dialog.get_by_label("Rosa Merge", exact=False).check()
        await dialog.get_by_label("Name: keep the other's").check()
        await expect(dialog.get_by_label("Phone: keep the other's")).to_be_checked()  # this one has none
        await dialog.get_by_role("button", name="Merge").click()
        await expect(dialog).to_be_hidden()
        await expect(page.get_by_role("heading", name="Rosa Merge")).to_be_visible()
        details = page.locator("#fields")
        await expect(details.get_by_label("Phone")).to_have_value("+351912000444")
        await expect(details.get_by_label("Email")).to_have_value("rmerge@example.com")
        await expect(page.locator("#history")).to_contain_text("merged")
    finally:
        await context.close()


async def test_plus_chat_from_a_row_of_the_contact_list(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent()
    site = stack.create_site()
    olaf = await writer(stack, site, "Hi", name="Olaf Listed")
    context = await browser.new_context()
    try:
        page = await signed_in_page(context, stack, email, password, f"/contacts?site={site.key}")
        await page.get_by_role("button", name="+ Chat with Olaf Listed").click()
        dialog = page.get_by_role("dialog", name="Write to Olaf Listed")
        await expect(dialog.get_by_label("Message")).to_be_focused()
        await dialog.get_by_label("Message").fill("Your order is ready.")
        await dialog.get_by_role("button", name="Send").click()
        await page.wait_for_url("**/agent#c=*")
        await expect(page.locator("#messages")).to_contain_text("Your order is ready.")
    finally:
        await context.close()
        await olaf.close()


async def test_an_admin_defines_a_field_and_an_agent_fills_it_in(stack: Stack, browser: Browser) -> None:
    admin_email, admin_password = stack.create_agent(role="admin")
    email, password = stack.create_agent()
    site = stack.create_site()
    sara = await writer(stack, site, "Hello", name="Sara Seats")
    context = await browser.new_context()
    try:
        page = await signed_in_page(
            context, stack, admin_email, admin_password, f"/admin/settings?site={site.key}"
        )
        form = page.locator("#field-new")
        await form.get_by_label("Label").fill("Seats")
        await form.get_by_label("Type").select_option("number")
        await form.get_by_role("button", name="Add field").click()
        await expect(page.locator("#contact-fields")).to_contain_text("seats")
        await form.get_by_label("Label").fill("Plan")
        await form.get_by_label("Type").select_option("choice")
        await form.get_by_label("Choices").fill("Gold, Silver")
        await form.get_by_role("button", name="Add field").click()
        await expect(page.locator("#contact-fields")).to_contain_text("Gold, Silver")
        await context.clear_cookies()

        assert sara.visitor is not None
        page = await signed_in_page(
            context, stack, email, password, f"/contacts/{sara.visitor['id']}?site={site.key}"
        )
        details = page.locator("#fields")
        await details.get_by_label("Seats").fill("12")
        await details.get_by_label("Plan").select_option("Gold")
        await details.get_by_role("button", name="Save").click()
        await expect(details.get_by_role("status")).to_have_text("Saved.")
        await expect(page.locator("#history")).to_contain_text("changed Seats: nothing → 12")
        await page.reload()
        await expect(details.get_by_label("Seats")).to_have_value("12")
        await expect(details.get_by_label("Plan")).to_have_value("Gold")
    finally:
        await context.close()
        await sara.close()


async def test_an_admin_exports_the_filtered_list_and_downloads_it(stack: Stack, browser: Browser) -> None:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    ted = await writer(stack, site, "Hi", name="=Ted Formula")
    context = await browser.new_context(accept_downloads=True)
    try:
        page = await signed_in_page(context, stack, email, password, f"/contacts?site={site.key}")
        await expect(page.locator("#people tbody tr")).to_have_count(1)
        await page.get_by_role("button", name="Export CSV").click()
        link = page.get_by_role("link", name="Download contacts.csv")
        await expect(link).to_be_focused()
        await expect(page.locator("#export-state [role=status]")).to_have_text("1 contact exported.")
        await expect(page.locator("#export-state progress")).to_have_attribute("value", "100")
        async with page.expect_download() as waiting:
            await link.click()
        download = await waiting.value
        text = (await download.path()).read_text(encoding="utf-8-sig")
        assert "'=Ted Formula" in text
    finally:
        await context.close()
        await ted.close()


async def test_plus_chat_reaches_the_visitor_on_the_demo_shop_at_the_next_visit(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    email, password = stack.create_agent()
    visitor_context = await browser.new_context()
    desk_context = await browser.new_context()
    try:
        w = await Widget.visit(visitor_context, shop.url + "/")
        await w.open()
        await w.say("Will the blue kettle be back?")
        await w.conversation_id()
        vid = await w.connected()
        await w.page.close()  # the visitor leaves the shop

        page = await signed_in_page(
            desk_context, stack, email, password, f"/contacts/{vid}?site={shop.site.key}"
        )
        await page.get_by_role("button", name="+ Chat").click()
        dialog = page.get_by_role("dialog", name=re.compile("^Write to"))
        await dialog.get_by_label("Message").fill("It is back: shall I keep one for you?")
        await dialog.get_by_role("button", name="Send").click()
        await page.wait_for_url("**/agent#c=*")

        back = await Widget.visit(visitor_context, shop.url + "/product")  # the next visit
        await expect(back.badge).to_have_text("1")
        await back.open()
        await expect(back.bubble("It is back: shall I keep one for you?")).to_be_visible()
        assert back.errors == []
    finally:
        await desk_context.close()
        await visitor_context.close()
