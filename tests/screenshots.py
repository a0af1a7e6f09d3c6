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
        await admin.http.post(f"/api/v1/sites/{site.key}/bot-answers", json={"name": "Order help"})
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
                ):
                    await page.goto(stack.agent_url + path)
                    await expect(page.locator("main h1")).to_be_visible()
                    await save(name)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to save them (docs/screenshots/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out)):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


if __name__ == "__main__":
    main()
