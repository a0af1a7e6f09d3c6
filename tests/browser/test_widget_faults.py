"""The widget under the faults the hardening issue found: a server restart and a host
page whose title the widget would have cut through an emoji."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest
from playwright.async_api import Browser

from tests.browser.conftest import Shop
from tests.browser.widget import Widget
from tests.harness import Stack
from tests.helpers import sign_in

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


async def test_a_title_that_a_slice_would_cut_through_an_emoji_still_connects(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    context = await browser.new_context()
    title = "x" * 511 + "😀"  # 513 UTF-16 units: slice(0, 512) leaves half the emoji
    await context.add_init_script(
        f"document.addEventListener('DOMContentLoaded', () => {{ document.title = {json.dumps(title)}; }});"
    )
    try:
        w = await Widget.visit(context, shop.url + "/")
        visitor_id = await w.connected()
        email, password = stack.create_agent(role="admin")
        async with httpx.AsyncClient(base_url=stack.agent_url) as http:
            await sign_in(http, email, password)
            seen = (await http.get(f"/api/v1/visitors/{visitor_id}")).json()
        assert seen["page_views"][0]["title"] == "x" * 511
        assert w.errors == []
    finally:
        await context.close()
