"""Custom fields through the real server: defined by admins with a type, edited by agents,
checked by type wherever a value comes from (an agent, an import, the host site), found
by the contact list's filter, and offered to proactive rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.sites.models import Site
from tests.bots.test_runtime import Builder, _bot_says
from tests.contacts.test_book import add, desk, listed
from tests.contacts.test_imports import csv_bytes, run, upload
from tests.harness import Stack
from tests.helpers import visitor
from tests.proactive.helpers import Admin
from tests.proactive.test_delivery import HOME, arrive

pytestmark = pytest.mark.anyio

FIELDS = [
    {"key": "seats", "label": "Seats", "type": "number"},
    {"key": "renewal", "label": "Renewal", "type": "date"},
    {"key": "paying", "label": "Paying", "type": "boolean"},
    {"key": "plan", "label": "Plan", "type": "choice", "choices": ["Gold", "Silver"]},
    {"key": "company", "label": "Company", "type": "text"},
]


async def with_fields(stack: Stack) -> Site:
    site = stack.create_site(contacts={"default_country": "PT"})
    async with desk(stack, "admin") as http:
        for field in FIELDS:
            made = await http.post(f"/api/v1/sites/{site.key}/contact-fields", json=field)
            assert made.status_code == 201, made.text
    return site


async def patch(http: httpx.AsyncClient, contact_id: str, **attributes: Any) -> httpx.Response:
    return await http.patch(f"/api/v1/contacts/{contact_id}", json={"attributes": attributes})


async def test_admins_define_fields_and_everyone_with_contacts_reads_them(stack: Stack) -> None:
    site = await with_fields(stack)
    async with desk(stack) as http:
        found = (await http.get(f"/api/v1/sites/{site.key}/contact-fields")).json()
        assert [f["key"] for f in found["fields"]] == ["seats", "renewal", "paying", "plan", "company"]
        assert found["fields"][3]["choices"] == ["Gold", "Silver"]
        refused = await http.post(
            f"/api/v1/sites/{site.key}/contact-fields", json={"key": "x", "label": "X", "type": "text"}
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "admins_only")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"key": "Seats!", "label": "S", "type": "text"}, "invalid_field_key", "key"),
        ({"key": "size", "label": "Size", "type": "colour"}, "invalid_field_type", "type"),
        ({"key": "size", "label": " ", "type": "text"}, "invalid_field_label", "label"),
        (
            {"key": "size", "label": "Size", "type": "choice", "choices": []},
            "invalid_field_choices",
            "choices",
        ),
        (
            {"key": "size", "label": "Size", "type": "text", "choices": ["a"]},
            "invalid_field_choices",
            "choices",
        ),
        ({"key": "seats", "label": "Seats again", "type": "text"}, "field_exists", "key"),
    ],
)
async def test_bad_definitions_are_refused_by_field(
    stack: Stack, body: dict[str, Any], code: str, field: str
) -> None:
    site = await with_fields(stack)
    async with desk(stack, "admin") as http:
        refused = await http.post(f"/api/v1/sites/{site.key}/contact-fields", json=body)
        assert refused.status_code in (422, 409)
        assert (refused.json()["code"], refused.json()["field"]) == (code, field)


async def test_a_fields_label_and_choices_change_but_not_its_type(stack: Stack) -> None:
    site = await with_fields(stack)
    async with desk(stack, "admin") as http:
        url = f"/api/v1/sites/{site.key}/contact-fields/plan"
        changed = await http.patch(url, json={"label": "Tier", "choices": ["Gold", "Silver", "Bronze"]})
        assert changed.json()["field"] == {
            "key": "plan",
            "label": "Tier",
            "type": "choice",
            "choices": ["Gold", "Silver", "Bronze"],
        }
        fixed = await http.patch(url, json={"type": "text"})
        assert (fixed.status_code, fixed.json()["code"]) == (422, "field_type_fixed")
        assert (await http.delete(url)).status_code == 204
        gone = await http.patch(url, json={"label": "Plan"})
        assert (gone.status_code, gone.json()["code"]) == (404, "field_not_found")


async def test_agents_values_are_stored_by_type(stack: Stack) -> None:
    site = await with_fields(stack)
    async with desk(stack) as http:
        rita = await add(http, site, name="Rita")
        done = await patch(
            http, rita["id"], seats="3,5", renewal="2027-01-31", paying="yes", plan="gold", company=" Acme "
        )
        assert done.status_code == 200, done.text
        page = (await http.get(f"/api/v1/contacts/{rita['id']}")).json()
        assert page["contact"]["attributes"] == {
            "seats": 3.5,
            "renewal": "2027-01-31",
            "paying": True,
            "plan": "Gold",
            "company": "Acme",
        }
        assert [f["key"] for f in page["fields"]] == [f["key"] for f in FIELDS]
        history = {h["field"]: (h["old"], h["new"]) for h in page["history"]}
        assert history["attribute.seats"] == (None, 3.5)
        cleared = await patch(http, rita["id"], seats=None)
        assert "seats" not in cleared.json()["contact"]["attributes"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seats", "many"),
        ("renewal", "31/01/2027"),
        ("paying", "maybe"),
        ("plan", "Platinum"),
        ("seats", True),
    ],
)
async def test_a_value_of_the_wrong_type_is_refused_naming_the_field(
    stack: Stack, key: str, value: Any
) -> None:
    site = await with_fields(stack)
    async with desk(stack) as http:
        rita = await add(http, site, name="Rita", attributes={"company": "Acme"})
        refused = await patch(http, rita["id"], **{key: value})
        assert refused.status_code == 422
        assert (refused.json()["code"], refused.json()["field"]) == (
            "invalid_field_value",
            f"attributes.{key}",
        )
        kept = (await http.get(f"/api/v1/contacts/{rita['id']}")).json()["contact"]["attributes"]
        assert kept == {"company": "Acme"}
        on_add = await http.post(
            f"/api/v1/sites/{site.key}/contacts", json={"name": "Bea", "attributes": {key: value}}
        )
        assert on_add.json()["code"] == "invalid_field_value"


async def test_the_list_filters_by_a_field_compared_by_its_type(stack: Stack) -> None:
    site = await with_fields(stack)
    async with desk(stack) as http:
        ana = await add(http, site, name="Ana", attributes={"seats": 3, "paying": True, "plan": "Gold"})
        bia = await add(http, site, name="Bia", attributes={"seats": "12", "paying": "no", "plan": "Silver"})
        await add(http, site, name="Cris")

        async def names(**query: str) -> list[str]:
            return sorted(c["name"] for c in await listed(http, site, **query))

        assert await names(field="seats", value="3.0") == ["Ana"]
        assert await names(field="seats", value="12") == ["Bia"]
        assert await names(field="paying", value="false") == ["Bia"]
        assert await names(field="paying", value="yes") == ["Ana"]
        assert await names(field="plan", value="gold") == ["Ana"]
        assert await names(field="seats") == ["Ana", "Bia"]  # is set
        assert await names(field="plan", value="Gold", tag="nope") == []
        refused = await http.get(
            f"/api/v1/sites/{site.key}/contacts", params={"field": "seats", "value": "x"}
        )
        assert refused.json()["code"] == "invalid_field_value"
        assert {ana["id"], bia["id"]} >= {c["id"] for c in await listed(http, site, field="paying")}


async def test_an_import_stores_field_values_by_type_and_rejects_the_wrong_ones(stack: Stack) -> None:
    site = await with_fields(stack)
    rows = [
        ["Name", "Email", "Seats", "Plan"],
        ["Ana", "ana@example.com", "4", "silver"],
        ["Bo", "bo@example.com", "four", "Gold"],
    ]
    async with desk(stack, "admin") as http:
        started = await upload(http, site, csv_bytes(rows))
        mapping = {"0": "name", "1": "email", "2": "attribute:seats", "3": "attribute:plan"}
        done = await run(http, started["import"]["id"], mapping=mapping, mode="upsert", dry=False)
        assert (done["counts"]["added"], done["counts"]["rejected"]) == (1, 1)
        rejected = (await http.get(f"/api/v1/imports/{started['import']['id']}/rejected.csv")).text
        assert "Seats: a number" in rejected
        [ana] = await listed(http, site, q="ana@example.com")
        page = (await http.get(f"/api/v1/contacts/{ana['id']}")).json()
        assert page["contact"]["attributes"] == {"seats": 4, "plan": "Silver"}


async def test_the_host_sites_values_are_checked_too(stack: Stack) -> None:
    site = await with_fields(stack)
    client = await visitor(stack, site)
    try:
        await client.set_attributes(seats="two")
        error = await client.next_error()
        assert (error["code"], error.get("field")) == ("invalid_field_value", "attributes.seats")
        await client.set_attributes(seats="2", colour="red")  # keys no field defines stay free
        await client.identify(name="Rita")
        await client.next_event("visitor.identified")  # frames are handled in order
        assert client.visitor is not None
        async with desk(stack) as http:
            page = (await http.get(f"/api/v1/contacts/{client.visitor['id']}")).json()
        assert page["contact"]["attributes"] == {"seats": 2, "colour": "red"}
    finally:
        await client.close()


async def test_a_proactive_rule_reads_a_field_as_it_is_stored(stack: Stack) -> None:
    site = await with_fields(stack)
    admin = await Admin.login(stack)
    try:
        await admin.live(
            site,
            text="Hello, Gold customer",
            trigger={"type": "event", "name": "checked"},
            conditions={"all": [{"field": "attribute.plan", "op": "is", "value": "Gold"}]},
        )
        editor = await admin.http.get(f"/admin/proactive/{(await admin.create(site))['id']}")
        assert "attribute.plan" in editor.text and "Contact fields" in editor.text  # offered by label
    finally:
        await admin.close()
    sock, _ = await arrive(stack, site, HOME)
    await sock.send({"type": "visitor.set", "attributes": {"plan": "gold"}})  # stored as "Gold"
    await sock.send({"type": "event.track", "name": "checked"})
    assert (await sock.expect("proactive.show"))["text"] == "Hello, Gold customer"
    await sock.close()


SEATS_BOT: dict[str, Any] = {
    "start": "ask",
    "steps": {
        "ask": {
            "type": "collect",
            "field": "attribute.seats",
            "text": "How many seats?",
            "invalid_text": "A number, please.",
            "next": "big",
        },
        "big": {
            "type": "branch",
            "cases": [{"when": {"field": "attribute.seats", "op": "is", "value": 12}, "next": "sales"}],
            "else": "thanks",
        },
        "sales": {"type": "end", "text": "Our sales team will call."},
        "thanks": {"type": "end", "text": "Thanks!"},
    },
}


async def test_a_bot_asks_again_until_a_field_takes_the_answer_and_branches_on_it(stack: Stack) -> None:
    site = await with_fields(stack)
    async with desk(stack, "admin") as http:
        builder = Builder(stack, http)
        await builder.inbox(site, greeting_bot=await builder.answer(site, SEATS_BOT, name="Seats"))
        alice = await visitor(stack, site)
        try:
            cid = (await alice.send("hello"))["conversation_id"]
            (ask,) = await _bot_says(alice, cid, 1)
            assert ask["text"] == "How many seats?"
            await alice.send("lots", cid)
            (again,) = await _bot_says(alice, cid, 1)
            assert again["text"] == "A number, please."
            await alice.send("12,0", cid)
            (sales,) = await _bot_says(alice, cid, 1)
            assert sales["text"] == "Our sales team will call."  # "12,0" is 12, a number
            assert alice.visitor is not None
            page = (await http.get(f"/api/v1/contacts/{alice.visitor['id']}")).json()
            assert page["contact"]["attributes"]["seats"] == 12
        finally:
            await alice.close()
