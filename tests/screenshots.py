"""`./dev screenshots`: every page of the product at 1280x800 and 375x667, saved under
docs/screenshots/, so a reviewer sees Parley without running it.

It starts what the tests start (a server on SQLite, the demo shop, Chromium), fills
a site with a conversation, a proactive message and a bot answer, and photographs
each page as a person would see it.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

from bench.servers import CHROMIUM, CHROMIUM_ARGS, demo_shop
from tests.bots.test_flows import ORDER_HELP
from tests.browser.widget import Widget
from tests.harness import build_stack
from tests.helpers import visitor
from tests.proactive.helpers import Admin

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (375, 667)}


async def shoot(out: Path) -> list[Path]:
    stack = build_stack("sqlite")
    site = stack.create_site(domains=["127.0.0.1", "localhost"])
    shop = demo_shop(stack.visitor_url, site.key)
    saved: list[Path] = []
    try:
        email, password = stack.create_agent(role="admin")
        rita = await visitor(stack, site, timezone="Europe/Lisbon")
        await rita.identify(name="Rita Lopes", email="rita@example.com")
        await rita.send("Hi! Is the blue kettle in stock? See https://shop.example/p/kettle")
        admin = await Admin.login(stack)
        made = await admin.live(
            site, name="Pricing help", text="Questions about our plans?", collect=["email"]
        )
        answer = (
            await admin.http.post(f"/api/v1/sites/{site.key}/bot-answers", json={"name": "Order help"})
        ).json()
        await admin.http.patch(
            f"/api/v1/bot-answers/{answer['id']}", json={"flow": ORDER_HELP, "bot_name": "Kettle bot"}
        )
        await admin.close()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size, (width, height) in SIZES.items():
                context = await browser.new_context(viewport={"width": width, "height": height})
                page = await context.new_page()

                async def save(name: str, page: Page = page, size: str = size) -> None:
                    path = out / f"{name}-{size}.png"
                    await page.screenshot(path=str(path))
                    saved.append(path)

                await page.goto(stack.agent_url + "/login")
                await save("sign-in")
                await page.get_by_label("Email").fill(email)
                await page.get_by_label("Password").fill(password)
                await page.get_by_role("button", name="Sign in").click()
                await expect(page.locator("#net")).to_have_text("Online")
                rita_row = page.locator("#list li", has_text="Rita Lopes")
                await expect(rita_row).to_be_visible()
                await save("workspace-empty")
                await rita_row.get_by_role("button").click()
                await expect(page.locator("#messages")).to_contain_text("blue kettle")
                await save("workspace-conversation")
                await page.locator("body").press("Escape")
                await page.locator("body").press("?")
                await save("workspace-shortcuts")
                for name, path in (
                    ("proactive-list", f"/admin/proactive?site={site.key}"),
                    ("proactive-edit", f"/admin/proactive/{made['id']}"),
                    ("proactive-why", f"/admin/proactive/why?site={site.key}"),
                    ("bots", f"/admin/bots?site={site.key}"),
                    ("settings", f"/admin/settings?site={site.key}"),
                    ("contacts", f"/contacts?site={site.key}"),
                    ("contact", f"/contacts/{rita.visitor['id']}?site={site.key}"),
                    ("contacts-import", f"/contacts/import?site={site.key}"),
                ):
                    await page.goto(stack.agent_url + path)
                    await expect(page.locator("main h1")).to_be_visible()
                    await save(name)
                    if size == "desktop":
                        saved.extend(await parts(page, name, out))
                if size == "desktop":
                    saved.extend(await components(page, stack.agent_url, out / "components"))
                w = await Widget.visit(context, shop.base_url + "/")
                await save("widget-closed", w.page)
                await w.open()
                await w.say("Hello, is anyone there?")
                await expect(w.bubble("Hello, is anyone there?")).to_be_visible()
                await save("widget-open", w.page)
                pricing = await Widget.visit(context, shop.base_url + "/pricing")
                await expect(pricing.preview).to_be_visible()
                await save("widget-proactive", pricing.page)
                await context.close()
            await browser.close()
        await rita.close()
    finally:
        shop.stop()
        stack.close()
    return saved


# Parts of a page below the fold, photographed on their own (desktop only).
PARTS = {
    "proactive-edit": [("proactive-rules", "fieldset:has(> legend:text-is('Rules'))")],
    "settings": [
        ("settings-widget", "section[aria-labelledby=look-h]"),
        ("settings-hours", "section[aria-labelledby=hours-h]"),
    ],
    "bots": [("bots-flow", "#edit")],
}


async def parts(page: Page, name: str, out: Path) -> list[Path]:
    saved = []
    if name == "bots":
        await page.get_by_role("button", name="Order help").click()
        await expect(page.locator("#diagram svg")).to_be_visible()
    if name == "settings":
        await expect(page.locator("#hours .days tbody tr")).to_have_count(7)
    for part, selector in PARTS.get(name, []):
        path = out / f"{part}-desktop.png"
        await page.locator(selector).screenshot(path=str(path))
        saved.append(path)
    return saved


async def components(page: Page, base: str, out: Path) -> list[Path]:
    """One picture per component of /admin/components, menus and dialogs open."""
    await page.goto(base + "/admin/components")
    saved = []
    for section in await page.locator(".specimen").all():
        name = (await section.get_attribute("id") or "").removeprefix("c-")
        shot = section
        if name == "menu":
            await section.get_by_role("button", name="Snooze ▾").click()
        if name == "alerts":
            await section.get_by_role("button", name="Show a toast").click()
            await expect(page.locator(".toast")).to_be_visible()
        if name == "dialog":
            await section.get_by_role("button", name="Delete").click()
            shot = page.get_by_role("dialog")
        path = out / f"{name}.png"
        await shot.screenshot(path=str(path))
        if name == "dialog":
            await page.keyboard.press("Escape")
        if name == "alerts":
            await page.locator(".toast").screenshot(path=str(out / "toast.png"))
            saved.append(out / "toast.png")
        saved.append(path)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to save them (docs/screenshots/)")
    args = parser.parse_args()
    (args.out / "components").mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out)):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


if __name__ == "__main__":
    main()
