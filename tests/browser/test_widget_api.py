"""The widget's JS API, identity verification, privacy, languages and per-site looks, in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from server.contacts.store import user_hash
from server.sites.models import Site
from tests.browser.conftest import Shop
from tests.browser.widget import Widget
from tests.harness import Stack
from tests.helpers import sign_in

pytestmark = pytest.mark.anyio

# The embed snippet's stub: calls made before the loader arrives are queued.
STUB = "window.Parley = function () { (Parley.q = Parley.q || []).push(arguments); };"


@pytest.fixture
async def staff(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's HTTP session on the server."""
    email, password = stack.create_agent(role="admin")
    async with httpx.AsyncClient(base_url=stack.visitor_url) as http:
        await sign_in(http, email, password)
        yield http


async def profile(http: httpx.AsyncClient, visitor_id: str, ready: Any = lambda p: True) -> Any:
    for _ in range(50):
        found = (await http.get(f"/api/v1/visitors/{visitor_id}")).json()
        if ready(found):
            return found
        await _sleep(0.1)
    return found


async def _sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


def page_of(shop: Shop, site: Site, path: str = "/") -> str:
    return f"{shop.url}{path}?site={site.key}"


async def test_calls_made_before_the_loader_are_queued_and_every_command_works(
    stack: Stack, shop: Shop, browser: Browser, staff: httpx.AsyncClient
) -> None:
    context = await browser.new_context()
    await context.add_init_script(
        STUB
        + "window.__seen = [];"
        + "['open', 'close', 'message', 'unread']"
        + ".forEach(n => Parley('on', n, a => __seen.push([n, a ?? null])));"
        + "Parley('set', {plan: 'pro', seats: 12});"
        + "Parley('track', 'viewed_pricing', {from: 'ad'});"
        + "Parley('identify', {name: 'Rita Lopes', email: 'rita@example.com', user_id: 'u-77'});"
    )
    w = await Widget.visit(context, shop.url + "/")
    try:
        visitor_id = await w.connected()
        found = await profile(staff, visitor_id, lambda p: p["events"] and p["email"])
        assert found["attributes"] == {"plan": "pro", "seats": 12}
        assert [(e["name"], e["props"]) for e in found["events"]] == [("viewed_pricing", {"from": "ad"})]
        assert (found["name"], found["email"]) == ("Rita Lopes", "rita@example.com")
        assert (found["user_id"], found["verified"]) == ("u-77", False)  # no hash: kept, unverified

        await w.page.evaluate("Parley('open')")
        await expect(w.panel).to_be_visible()
        await w.page.evaluate("Parley('close')")
        await expect(w.panel).to_be_hidden()
        await w.page.evaluate("Parley('toggle')")
        await expect(w.panel).to_be_visible()
        await w.page.evaluate("Parley('toggle')")
        await expect(w.panel).to_be_hidden()
        seen = await w.page.evaluate("__seen")
        assert [s[0] for s in seen] == ["open", "close", "open", "close"]

        await w.page.evaluate("Parley('set', {plan: null, 'bad key!': 1})")  # one bad key refuses the call
        await w.page.wait_for_timeout(300)
        assert any("invalid_frame" in line for line in w.console)
        assert (await profile(staff, visitor_id))["attributes"] == {"plan": "pro", "seats": 12}

        # Shutdown forgets this browser: storage cleared, a new anonymous visitor.
        assert await w.stored() is not None
        await w.page.evaluate("Parley('shutdown')")
        await w.page.wait_for_function(f"() => Parley._.on && Parley._.vid !== {visitor_id!r}")
        assert (await w.stored())["c"] is None
        assert await w.page.evaluate("Parley._.m.id") is None
        assert w.errors == []
    finally:
        await context.close()


async def test_identity_verification(
    stack: Stack, shop: Shop, browser: Browser, staff: httpx.AsyncClient
) -> None:
    site = stack.create_site(widget={"require_identity": True})
    good = user_hash(site.identity_secret, "u-1001")
    first = await browser.new_context()
    second = await browser.new_context()
    try:
        # A forged hash, and no hash at all, are refused: nothing is stored.
        w = await Widget.visit(first, page_of(shop, site))
        forged = await w.connected()
        await w.page.evaluate(
            "Parley('identify', {user_id: 'u-1001', name: 'Mallory', user_hash: '00'.repeat(32)});"
            "Parley('identify', {user_id: 'u-1001', name: 'Mallory'});"
        )
        await w.page.wait_for_function("() => true")
        await w.page.wait_for_timeout(300)
        assert sum("identity_unverified" in line for line in w.console) == 2
        found = await profile(staff, forged)
        assert (found["user_id"], found["name"], found["verified"]) == (None, None, False)

        # The real hash verifies; the same user in another browser becomes the same contact.
        await w.page.evaluate(f"Parley('identify', {{user_id: 'u-1001', name: 'Rita', user_hash: '{good}'}})")
        found = await profile(staff, forged, lambda p: p["verified"])
        assert (found["user_id"], found["verified"], found["name"]) == ("u-1001", True, "Rita")
        await w.open()
        await w.say("message from my laptop")
        await expect(w.bubble("message from my laptop")).to_contain_text("Sent")

        phone = await Widget.visit(second, page_of(shop, site))
        other = await phone.connected()
        assert other != forged
        await phone.page.evaluate(f"Parley('identify', {{user_id: 'u-1001', user_hash: '{good}'}})")
        await phone.page.wait_for_function(f"() => Parley._.on && Parley._.vid === {forged!r}")
        await phone.open()
        await expect(phone.bubble("message from my laptop")).to_be_visible()

        # A forged call in a third browser never reaches that contact.
        third = await Widget.visit(second, page_of(shop, site, "/pricing"))
        await third.page.evaluate("Parley('shutdown')")
        await third.page.wait_for_function(f"() => Parley._.on && Parley._.vid !== {forged!r}")
        await third.page.evaluate("Parley('identify', {user_id: 'u-1001', user_hash: 'f'.repeat(64)})")
        await third.page.wait_for_timeout(300)
        assert await third.page.evaluate("Parley._.vid") != forged
        assert any("identity_unverified" in line for line in third.console)
    finally:
        await first.close()
        await second.close()


async def test_with_consent_required_nothing_is_stored_before_consent(
    stack: Stack, shop: Shop, browser: Browser
) -> None:
    site = stack.create_site(widget={"consent_required": True})
    context = await browser.new_context()
    sockets: list[str] = []
    try:
        page = await context.new_page()
        page.on("websocket", lambda ws: sockets.append(ws.url))
        w = Widget(page)
        await page.goto(page_of(shop, site))
        await expect(w.launcher).to_be_visible()
        await page.wait_for_timeout(500)
        await page.evaluate("Parley('track', 'before_consent')")
        await page.wait_for_timeout(500)
        assert await page.evaluate("localStorage.length") == 0
        assert await page.evaluate("document.cookie") == ""
        assert sockets == []  # not even a connection: tracking waits for consent

        await page.evaluate("Parley('consent')")
        await w.connected()
        await page.wait_for_function("() => localStorage.length === 1")
        assert len(sockets) == 1

        # Opening the chat counts as consent as well.
        other = await Widget.visit(await browser.new_context(), page_of(shop, site))
        await other.page.wait_for_timeout(300)
        assert await other.page.evaluate("localStorage.length") == 0
        await other.open()
        await other.connected()
        await other.page.wait_for_function("() => localStorage.length === 1")
        await other.page.context.close()
    finally:
        await context.close()


@pytest.mark.parametrize(
    ("browser_locale", "site_locale", "launcher", "placeholder"),
    [
        ("en-US", "auto", "Open chat", "Write a message…"),
        ("pt-BR", "auto", "Abrir conversa", "Escreva uma mensagem…"),
        ("es-MX", "auto", "Abrir chat", "Escribe un mensaje…"),
        ("de-DE", "auto", "Open chat", "Write a message…"),
        ("en-GB", "pt", "Abrir conversa", "Escreva uma mensagem…"),
    ],
)
async def test_languages_from_the_browser_or_the_site(
    stack: Stack,
    shop: Shop,
    browser: Browser,
    browser_locale: str,
    site_locale: str,
    launcher: str,
    placeholder: str,
) -> None:
    site = stack.create_site(widget={"locale": site_locale})
    context = await browser.new_context(locale=browser_locale)
    try:
        w = await Widget.visit(context, page_of(shop, site))
        await expect(w.launcher).to_have_attribute("aria-label", launcher)
        await w.open()
        await expect(w.composer).to_have_attribute("placeholder", placeholder)
    finally:
        await context.close()


async def test_the_launcher_looks_as_the_site_says(
    stack: Stack, shop: Shop, browser: Browser, staff: httpx.AsyncClient
) -> None:
    site = stack.create_site()
    changed = await staff.patch(
        f"/api/v1/sites/{site.key}/widget",
        json={"color": "#e11d48", "position": "left", "label": "Ask us", "welcome": "Olá <b>amigo</b>"},
    )
    assert changed.status_code == 200, changed.text
    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    try:
        w = await Widget.visit(context, page_of(shop, site))
        await expect(w.launcher).to_have_text("Ask us")
        await expect(w.launcher).to_have_attribute("aria-label", "Ask us: Open chat")
        colour = await w.launcher.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(225, 29, 72)"
        box = await w.launcher.bounding_box()
        assert box is not None and box["x"] == 20
        await w.open()
        await expect(w.page.locator("[data-parley] .w")).to_have_text("Olá <b>amigo</b>")  # text, not markup
    finally:
        await context.close()


async def test_a_light_site_colour_gets_dark_text_everywhere_it_is_drawn_on(
    stack: Stack, shop: Shop, browser: Browser, staff: httpx.AsyncClient
) -> None:
    site = stack.create_site()
    changed = await staff.patch(
        f"/api/v1/sites/{site.key}/widget", json={"color": "#fde047", "label": "Help"}
    )
    assert changed.status_code == 200, changed.text
    context = await browser.new_context()
    try:
        w = await Widget.visit(context, page_of(shop, site))
        ink = "rgb(17, 24, 39)"
        await expect(w.launcher).to_have_css("color", ink)  # not white on yellow (1.2:1)
        await w.open()
        await expect(w.panel.locator(".h")).to_have_css("color", ink)
        await expect(w.panel.locator("form > button[type=submit]")).to_have_css("color", ink)
        await w.say("Hello in yellow")
        await expect(w.bubble("Hello in yellow").locator(".bu")).to_have_css("color", ink)
    finally:
        await context.close()
