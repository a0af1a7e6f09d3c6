"""Browser fixtures: Debian's Chromium driven by Playwright, and the demo shop.

The shop runs as its own process on its own port (``parley demo-site``), so
the widget is cross-origin to it exactly as on a customer's site.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from bench.servers import CHROMIUM, CHROMIUM_ARGS, demo_shop
from server.sites.models import Site
from tests.harness import Stack


class Shop:
    """The demo shop, embedding the widget of one Parley server for one site."""

    def __init__(self, parley_url: str, site: Site) -> None:
        self.site = site
        self.server = demo_shop(parley_url, site.key)
        self.url = self.server.base_url

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def shop(stack: Stack) -> Iterator[Shop]:
    site = stack.create_site()
    running = Shop(stack.visitor_url, site)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `./dev test` installs it with `apt-get install -y chromium`")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # Autoplay allowed: the tests count the widget's notification tones.
        args = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        launched = await playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            yield launched
        finally:
            await launched.close()


async def signed_in_page(context: BrowserContext, stack: Stack, email: str, password: str, path: str) -> Page:
    """A page signed in through the real sign-in form, landing on ``path``."""
    page = await context.new_page()
    await page.goto(stack.agent_url + "/login?" + urlencode({"next": path}))
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(stack.agent_url + path)
    return page
