"""The settings pages in Chromium: the widget's look with its live preview, business hours
and the proactive cap, and the design system's confirmations and toasts."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import signed_in_page
from tests.harness import Stack
from tests.helpers import sign_in

pytestmark = pytest.mark.anyio


async def settings(browser: Browser, stack: Stack) -> tuple[Page, str, httpx.AsyncClient]:
    email, password = stack.create_agent(role="admin")
    site = stack.create_site()
    context = await browser.new_context()
    page = await signed_in_page(context, stack, email, password, f"/admin/settings?site={site.key}")
    http = httpx.AsyncClient(base_url=stack.agent_url)
    await sign_in(http, email, password)
    return page, site.key, http


async def test_the_widget_look_is_previewed_as_it_is_typed_and_saved(stack: Stack, browser: Browser) -> None:
    page, key, http = await settings(browser, stack)
    try:
        look = page.locator("#look")
        await expect(look.get_by_role("textbox", name="Colour", exact=True)).to_have_value(
            "#2563eb"
        )  # loaded
        await look.get_by_role("textbox", name="Colour", exact=True).fill("#0f766e")
        await look.get_by_label("Launcher text").fill("Ask <b>us</b>")
        await look.get_by_label("Bottom left").check()
        await look.get_by_label("Welcome text").fill("Hi! We reply within the hour.")
        launcher = page.locator("#look-launcher")
        await expect(launcher).to_have_css("background-color", "rgb(15, 118, 110)")
        await expect(launcher).to_have_text("Ask <b>us</b>")
        await expect(page.locator("#look-phone")).to_have_class("phone left")
        await expect(page.locator("#look-welcome")).to_have_text("Hi! We reply within the hour.")
        before = (await http.get(f"/api/v1/sites/{key}/widget")).json()["widget"]
        assert before["color"] == "#2563eb"  # nothing is saved while typing

        await look.get_by_role("button", name="Save widget").click()
        await expect(look.get_by_role("status")).to_have_text("Saved.")
        saved = (await http.get(f"/api/v1/sites/{key}/widget")).json()["widget"]
        assert (saved["color"], saved["label"], saved["position"], saved["welcome"]) == (
            "#0f766e",
            "Ask <b>us</b>",
            "left",
            "Hi! We reply within the hour.",
        )
    finally:
        await http.aclose()
        await page.context.close()


async def test_a_bad_colour_is_named_and_nothing_is_saved(stack: Stack, browser: Browser) -> None:
    page, key, http = await settings(browser, stack)
    try:
        look = page.locator("#look")
        await expect(look.get_by_role("textbox", name="Colour", exact=True)).to_have_value(
            "#2563eb"
        )  # loaded
        await look.get_by_role("textbox", name="Colour", exact=True).fill("teal")
        await look.get_by_role("button", name="Save widget").click()
        await expect(look.get_by_role("status")).to_have_text("color: must be a colour like #2563eb")
        await expect(look.get_by_role("textbox", name="Colour", exact=True)).to_have_attribute(
            "aria-invalid", "true"
        )
        assert (await http.get(f"/api/v1/sites/{key}/widget")).json()["widget"]["color"] == "#2563eb"
    finally:
        await http.aclose()
        await page.context.close()


async def test_business_hours_holidays_and_the_cap_are_saved(stack: Stack, browser: Browser) -> None:
    page, key, http = await settings(browser, stack)
    try:
        hours = page.locator("#hours")
        await expect(hours.get_by_label("Proactive messages per visit")).to_have_value("1")  # loaded
        await hours.get_by_label("Time zone").fill("Europe/Lisbon")
        for day in ("Monday", "Tuesday"):
            await hours.get_by_label(f"Open on {day}").check()
            await hours.get_by_label(f"{day} from").fill("09:30")
            await hours.get_by_label(f"{day} to").fill("18:00")
        await expect(hours.get_by_label("Wednesday from")).to_be_disabled()  # closed days take no times
        await hours.get_by_label("Holiday date").fill("2026-12-25")
        await hours.get_by_role("button", name="Add holiday").click()
        await expect(hours.locator("#holidays")).to_contain_text("2026-12-25")
        await hours.get_by_label("Proactive messages per visit").fill("3")
        await hours.get_by_role("button", name="Save business hours").click()
        await expect(hours.get_by_role("status")).to_have_text("Saved.")
        saved = (await http.get(f"/api/v1/sites/{key}/proactive-settings")).json()
        assert saved == {
            "cap_per_visit": 3,
            "business_hours": {
                "timezone": "Europe/Lisbon",
                "weekly": {"mon": [["09:30", "18:00"]], "tue": [["09:30", "18:00"]]},
                "holidays": ["2026-12-25"],
            },
        }
        await page.reload()
        await expect(hours.get_by_label("Open on Monday")).to_be_checked()
        await expect(hours.get_by_label("Monday from")).to_have_value("09:30")
        await expect(hours.get_by_label("Open on Sunday")).not_to_be_checked()
        await expect(hours.locator("#holidays")).to_contain_text("2026-12-25")
    finally:
        await http.aclose()
        await page.context.close()


async def test_an_unknown_time_zone_is_named_on_its_field(stack: Stack, browser: Browser) -> None:
    page, key, http = await settings(browser, stack)
    try:
        hours = page.locator("#hours")
        await expect(hours.get_by_label("Proactive messages per visit")).to_have_value("1")  # loaded
        await hours.get_by_label("Time zone").fill("Mars/Olympus")
        await hours.get_by_role("button", name="Save business hours").click()
        await expect(hours.get_by_role("status")).to_have_text("unknown time zone 'Mars/Olympus'")
        await expect(hours.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
        saved = (await http.get(f"/api/v1/sites/{key}/proactive-settings")).json()
        assert saved["business_hours"] is None
    finally:
        await http.aclose()
        await page.context.close()


async def test_deleting_asks_first_and_cancel_keeps_it(stack: Stack, browser: Browser) -> None:
    page, _, http = await settings(browser, stack)
    try:
        made = await http.post("/api/v1/canned-responses", json={"shortcut": "bye", "text": "Bye!"})
        assert made.status_code == 201, made.text
        await page.reload()
        delete = page.get_by_role("button", name="Delete /bye")
        await delete.click()
        confirm = page.get_by_role("dialog")
        await expect(confirm).to_contain_text("Delete the canned response /bye?")
        await expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(confirm).to_be_hidden()
        await expect(delete).to_be_focused()
        await expect(page.locator("#canned")).to_contain_text("Bye!")

        await delete.click()
        await confirm.get_by_role("button", name="Delete").click()
        await expect(page.locator(".toast")).to_have_text("Deleted /bye.")
        await expect(page.locator("#canned")).not_to_contain_text("Bye!")
        listed = (await http.get("/api/v1/canned-responses")).json()["canned_responses"]
        assert [c["shortcut"] for c in listed] == []
    finally:
        await http.aclose()
        await page.context.close()


async def test_the_default_country_for_phones_is_chosen_by_name(stack: Stack, browser: Browser) -> None:
    page, key, http = await settings(browser, stack)
    try:
        people = page.locator("#people")
        country = people.get_by_label("Phones typed without + are in")
        await expect(country.locator("option", has_text="Portugal (PT)")).to_have_count(1)
        await country.select_option("PT")
        await people.get_by_role("button", name="Save contacts settings").click()
        await expect(people.get_by_role("status")).to_have_text("Saved.")
        made = await http.post(f"/api/v1/sites/{key}/contacts", json={"name": "Rui", "phone": "912 345 678"})
        assert made.json()["contact"]["phone"] == "+351912345678"
        bad = await http.patch(f"/api/v1/sites/{key}/contact-settings", json={"default_country": "XX"})
        assert (bad.status_code, bad.json()["field"]) == (422, "default_country")
    finally:
        await http.aclose()
        await page.context.close()


async def test_an_admin_makes_a_token_sees_it_once_and_revokes_it(stack: Stack, browser: Browser) -> None:
    page, key, http = await settings(browser, stack)
    try:
        form = page.locator("#token-new")
        await form.get_by_label("Name").fill("Shop <b>backend</b>")
        await form.get_by_role("checkbox", name="Read contacts").check()
        await form.get_by_role("checkbox", name="Add and change contacts").check()
        await form.get_by_role("button", name="Create token").click()
        shown = page.locator("#token-made")
        await expect(shown).to_be_focused()
        secret = await shown.get_by_role("textbox", name="The new token").input_value()
        assert secret.startswith("pat_")
        await assert_accessible(page, "/admin/settings, a new API token shown")
        row = page.locator("#tokens tbody tr").first
        await expect(row).to_contain_text("Shop <b>backend</b>")  # as text, never as HTML
        await expect(row).to_contain_text("contacts:read, contacts:write")
        await expect(row).to_contain_text(secret[:10] + "…")
        await expect(row).not_to_contain_text(secret)

        async with httpx.AsyncClient(base_url=stack.agent_url) as api:
            bearer = {"Authorization": f"Bearer {secret}"}
            assert (await api.get(f"/api/v1/sites/{key}/contacts", headers=bearer)).status_code == 200
            await page.reload()
            await expect(page.locator("#tokens tbody tr").first).not_to_contain_text("Never")  # last used
            await page.get_by_role("button", name="Revoke the token Shop <b>backend</b>").click()
            await page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
            await expect(page.locator(".toast")).to_have_text("Revoked the token Shop <b>backend</b>.")
            await expect(page.locator("#tokens tbody tr").first).to_contain_text("Revoked")
            after = await api.get(f"/api/v1/sites/{key}/contacts", headers=bearer)
            assert (after.status_code, after.json()["code"]) == (401, "token_revoked")
    finally:
        await http.aclose()
        await page.context.close()
