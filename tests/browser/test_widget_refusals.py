"""When the server refuses a message for good, the widget says so and offers a retry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop
from tests.browser.widget import HOST, Widget
from tests.harness import Stack

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def tight_shop(tight_stack: Stack) -> Iterator[Shop]:
    site = tight_stack.create_site()
    running = Shop(tight_stack.visitor_url, site)
    yield running
    running.stop()


async def test_a_refused_message_shows_not_sent_with_a_retry(tight_shop: Shop, browser: Browser) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    refusals: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda f: refusals.append(str(f)) if "message_too_long" in str(f) else None
        ),
    )
    w = Widget(page)
    await w.goto(tight_shop.url + "/")
    try:
        await w.open()
        await w.connected()
        assert await w.page.evaluate("Parley._.limit") == 50  # the server's limit, from welcome
        # Past the panel's own check (as a page script or an old tab could): the server refuses it.
        await w.page.evaluate("Parley._.api.say('x'.repeat(60))")
        refused = w.page.locator(f"{HOST} .m.v.failed")
        await expect(refused).to_contain_text("Not sent")
        retry = refused.get_by_role("button", name="Retry")
        assert "50" in (await retry.get_attribute("title") or "")  # the server's reason, on hover
        assert (await w.stored())["o"] == []  # not retried behind the visitor's back
        assert len(refusals) == 1
        await retry.click()
        await w.page.wait_for_function("() => true")
        for _ in range(50):
            if len(refusals) == 2:
                break
            await w.page.wait_for_timeout(100)
        assert len(refusals) == 2  # sent once more, with the same client id, and refused again
        await expect(refused).to_contain_text("Not sent")
        await w.say("short and fine")
        await expect(w.bubble("short and fine")).to_contain_text("Sent")
        assert w.errors == []
    finally:
        await context.close()
