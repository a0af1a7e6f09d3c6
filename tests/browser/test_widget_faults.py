"""The widget under the faults the hardening issue found: a server restart."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.async_api import Browser

from tests.browser.conftest import Shop
from tests.browser.widget import Widget
from tests.harness import Stack

pytestmark = pytest.mark.anyio


async def test_the_widget_reconnects_at_once_after_a_server_shutdown(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    # Count the sockets the widget makes, and the close codes it sees.
    await context.add_init_script(
        """window.__made = 0; window.__codes = []; const Native = window.WebSocket;
        window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__made++;
        this.addEventListener("close", e => window.__codes.push(e.code)); } };"""
    )
    page = await context.new_page()
    await page.clock.install()
    await page.clock.resume()  # real time until the widget is connected
    w = Widget(page)
    await page.goto(shop.url + "/")
    await w.connected()
    try:
        # Frozen timers: only a reconnect scheduled with no delay runs within 1 ms of fake time.
        await page.clock.pause_at(datetime.fromtimestamp(await page.evaluate("Date.now() / 1000 + 1")))
        made = await page.evaluate("window.__made")
        stack.servers[0].stop()  # 1001 server_shutdown
        await page.wait_for_function("() => window.__codes.length > 0", timeout=10_000)
        assert await page.evaluate("window.__codes") == [1001]  # server_shutdown
        assert await page.evaluate("window.__made") == made
        await page.clock.run_for(1)
        assert await page.evaluate("window.__made") == made + 1, "the widget waited its backoff after a 1001"
    finally:
        if stack.servers[0].proc is None:
            stack.servers[0].start()
        await context.close()
