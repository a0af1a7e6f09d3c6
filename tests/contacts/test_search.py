"""The contact search's ways of answering (a list of matches, a condition that starts
from them, a walk of the newest rows) give the same contacts in the same order: each
query is run with the thresholds that force each way, on the real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.contacts import book, search
from server.contacts.book import Actor, Filters
from server.sites.models import Site
from tests.harness import Stack

FIRST = ["Rita", "Ana", "Sara", "Rui", "Sofia", "Samuel", "Ines", "Tiago"]
LAST = ["Lopes", "Esteves", "Silva", "Santos", "Rossi", "Costa"]
QUERIES = ["rita", "ri", "lopes", "s est", "a s", "s.est", "costa1", "9123", "+351 912", "example", "xyz"]
# (WALK_ABOVE, DRIVE_BELOW, BREAK_EVEN): a list of matches, a condition from them, the walk.
WAYS = {"list": (1000, 10_000, 5), "condition": (0, 10_000, 10_000), "walk": (0, 0, 0)}


@pytest.fixture(scope="module")
def people(stack: Stack) -> Iterator[Site]:
    assert stack.db is not None
    site = stack.create_site(contacts={"default_country": "PT"})
    for n in range(48):
        first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
        body = {"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}{n}@example.com"}
        body["phone"] = f"912 34{n:02d} 00" if n % 3 else f"+34 612 345 6{n:02d}"
        stack.db.write_sync(lambda c, b=body: book.add(c, site.id, b, Actor("agent"), "PT"))
    yield site


def found(stack: Stack, site: Site, query: str, sort: str) -> list[str]:
    assert stack.db is not None
    page = stack.db.read_sync(lambda c: book.listed(c, site.id, Filters(query=query, sort=sort, limit=100)))
    return [c["name"] + " " + c["email"] for c in page["contacts"]]


@pytest.mark.parametrize("sort", ["last_seen", "name"])
def test_every_way_of_searching_finds_the_same_contacts(
    stack: Stack, people: Site, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: dict[str, dict[str, list[str]]] = {}
    for way, (walk_above, drive_below, break_even) in WAYS.items():
        monkeypatch.setattr(search, "WALK_ABOVE", walk_above)
        monkeypatch.setattr(search, "DRIVE_BELOW", drive_below)
        monkeypatch.setattr(search, "BREAK_EVEN", break_even)
        answers[way] = {q: found(stack, people, q, sort) for q in QUERIES}
    assert answers["list"]["rita"] and answers["list"]["s est"]  # the queries find someone
    assert answers["list"]["xyz"] == []
    assert answers["condition"] == answers["list"]
    assert answers["walk"] == answers["list"]
