"""Browser fixtures: Debian's Chromium driven by Playwright, and the demo shop.

The shop runs as its own process on its own port (``parley demo-site``), so
the widget is cross-origin to it exactly as on a customer's site.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from server.sites.models import Site
from tests.harness import ROOT, Stack, free_port

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


class Shop:
    """The demo shop, embedding the widget of one Parley server for one site."""

    def __init__(self, parley_url: str, site: Site, log_path: Path) -> None:
        self.site = site
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "server", "demo-site", "--port", str(self.port)),
                *("--parley-url", parley_url, "--site-key", site.key),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the demo shop did not start:\n" + log_path.read_text()[-2000:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def shop(stack: Stack) -> Iterator[Shop]:
    site = stack.create_site()
    running = Shop(stack.visitor_url, site, stack.workdir / "shop.log")
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
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
