"""Driving the widget on a host page as a visitor would: through the launcher, the panel and the keyboard."""

from __future__ import annotations

from typing import Any

from playwright.async_api import BrowserContext, Locator, Page, expect

HOST = "[data-parley]"  # the shadow host; Playwright's CSS pierces open shadow roots


class Widget:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.launcher = page.locator(f"{HOST} button.l")
        self.badge = page.locator(f"{HOST} .n")
        self.panel = page.locator(f"{HOST} .p")
        self.composer = page.locator(f"{HOST} textarea")
        self.log = page.locator(f"{HOST} .g")
        self.typing = page.locator(f"{HOST} .ty")
        self.banner = page.locator(f"{HOST} .net")
        self.counter = page.locator(f"{HOST} .ct")
        self.preview = page.locator(f"{HOST} .pv")

    @classmethod
    async def visit(cls, context: BrowserContext, url: str) -> Widget:
        page = await context.new_page()
        widget = cls(page)
        await page.goto(url)
        await expect(widget.launcher).to_be_visible()
        return widget

    async def goto(self, url: str) -> None:
        await self.page.goto(url)
        await expect(self.launcher).to_be_visible()

    async def open(self) -> None:
        await self.launcher.click()
        await expect(self.composer).to_be_focused()

    async def say(self, text: str) -> None:
        await self.composer.fill(text)
        await self.composer.press("Enter")

    def bubble(self, text: str) -> Locator:
        return self.page.locator(f"{HOST} .m", has_text=text)

    async def connected(self) -> str:
        """Wait until the widget's socket is welcomed; the visitor's id."""
        await self.page.wait_for_function("() => window.Parley && Parley._.on === true", timeout=10_000)
        return str(await self.page.evaluate("Parley._.vid"))

    async def conversation_id(self) -> str:
        await self.page.wait_for_function("() => Parley._.m && Parley._.m.id", timeout=10_000)
        return str(await self.page.evaluate("Parley._.m.id"))

    async def stored(self) -> Any:
        return await self.page.evaluate("() => JSON.parse(localStorage.getItem(Parley._.key))")
