"""Frequencies across visits, and what a visit records (UTM, device), with visits that end after 1 s."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from tests.harness import Stack, build_stack
from tests.helpers import hello, raw_visitor
from tests.proactive.helpers import Admin
from tests.proactive.test_delivery import nothing_shown

pytestmark = pytest.mark.anyio
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def short_visits(request: pytest.FixtureRequest) -> Iterator[Stack]:
    built = build_stack(request.param, visit_timeout_s="1")
    yield built
    built.close()


async def test_once_never_returns_and_once_per_visit_returns_next_visit(short_visits: Stack) -> None:
    stack = short_visits
    site = stack.create_site()
    admin = await Admin.login(stack)
    await admin.http.patch(f"/api/v1/sites/{site.key}/proactive-settings", json={"cap_per_visit": 5})
    try:
        await admin.live(site, name="once", text="only ever once", frequency="once", priority=1)
        await admin.live(
            site, name="per visit", text="once each visit", frequency="once_per_visit", priority=2
        )
        token = None
        seen: list[list[str]] = []
        for _visit in range(3):
            sock = await raw_visitor(stack, site)
            welcome = await hello(
                sock, site, page={"url": "https://s.example/"}, **({"token": token} if token else {})
            )
            token = welcome["token"]
            texts = [(await sock.expect("proactive.show"))["text"]]
            # One message per moment: the next page shows the next one, if any.
            await sock.send({"type": "page.view", "page": {"url": "https://s.example/pricing"}})
            if not seen:
                texts.append((await sock.expect("proactive.show"))["text"])
            await nothing_shown(sock, wait=0.3)
            seen.append(texts)
            assert welcome["visitor"]["visit_count"] == len(seen)
            await sock.close()
            await anyio.sleep(1.3)  # the visit ends
        assert seen == [["only ever once", "once each visit"], ["once each visit"], ["once each visit"]]
    finally:
        await admin.close()


async def test_a_visit_records_utm_and_device_and_rules_use_them(short_visits: Stack) -> None:
    stack = short_visits
    site = stack.create_site()
    admin = await Admin.login(stack)
    try:
        await admin.live(
            site,
            text="Welcome from the newsletter, on your phone",
            conditions={
                "all": [
                    {"field": "utm.source", "op": "is", "value": "newsletter"},
                    {"field": "device", "op": "is", "value": "mobile"},
                    {"field": "os", "op": "is", "value": "Android"},
                    {"field": "language", "op": "starts_with", "value": "pt"},
                    {"field": "returning", "op": "is", "value": False},
                ]
            },
        )
        from parley_client import Socket

        url = stack.visitor_url.replace("http", "ws") + f"/ws/v1/visitor?site={site.key}"
        desktop = await raw_visitor(stack, site)
        await hello(desktop, site, page={"url": "https://s.example/?utm_source=newsletter"}, locale="pt-BR")
        await nothing_shown(desktop)  # not a phone
        await desktop.close()
        phone = await Socket.open(url, headers={"User-Agent": PHONE})
        welcome = await hello(
            phone,
            site,
            page={"url": "https://s.example/?utm_source=newsletter&utm_campaign=june"},
            locale="pt-BR",
        )
        assert (await phone.expect("proactive.show"))["text"] == "Welcome from the newsletter, on your phone"
        await phone.close()
        why = await admin.http.get(
            f"/api/v1/sites/{site.key}/proactive/why", params={"visitor": welcome["visitor"]["id"]}
        )
        actual = {c["field"]: c["actual"] for c in why.json()["checks"][0]["conditions"]}
        assert actual == {
            "utm.source": "newsletter",
            "device": "mobile",
            "os": "Android",
            "language": "pt-BR",
            "returning": False,
        }
        assert why.json()["checks"][0]["frequency"]["ok"] is False  # shown already in this visit
    finally:
        await admin.close()
