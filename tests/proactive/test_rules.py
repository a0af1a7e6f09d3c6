"""Every operator on every kind of field, validation, time math and business hours (table tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.errors import InvalidInput
from server.proactive import rules
from server.sites.hours import Hours

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def facts(**overrides: Any) -> rules.Facts:
    base: dict[str, Any] = {
        "now": NOW,
        "page_url": "https://Shop.example/pricing/teams?utm_source=ads",
        "page_title": "Pricing for teams",
        "page_referrer": "",
        "page_since": NOW - timedelta(seconds=30),
        "visit_since": NOW - timedelta(seconds=300),
        "visits": 3,
        "device": "mobile",
        "browser": "Chrome Mobile",
        "os": "Android",
        "language": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "utm": {"source": "ads", "campaign": "black-friday"},
        "events": {"added_to_cart": 2},
        "attributes": {"plan": "pro", "seats": 12, "trial": False},
    }
    return rules.Facts(**{**base, **overrides})


CASES = [
    # field, op, value, holds
    ("page.url", "contains", "PRICING", True),
    ("page.url", "not_contains", "checkout", True),
    ("page.url", "starts_with", "https://shop.example", True),
    ("page.url", "is", "https://shop.example/", False),
    ("page.url", "is_not", "https://shop.example/", True),
    ("page.url", "matches", r"/pricing/(teams|solo)", True),
    ("page.url", "matches", r"^http://", False),
    ("page.path", "is", "/pricing/teams", True),
    ("page.title", "contains", "teams", True),
    ("page.referrer", "is_set", None, False),
    ("page.referrer", "is", "", True),
    ("utm.source", "is", "ads", True),
    ("utm.campaign", "starts_with", "black", True),
    ("utm.medium", "is_set", None, False),
    ("utm.medium", "is_not", "email", True),
    ("utm.term", "contains", "x", False),
    ("time_on_page", "gt", 29, True),
    ("time_on_page", "gt", 30, False),
    ("time_on_page", "lt", 31, True),
    ("time_on_site", "gt", 299, True),
    ("time_on_site", "lt", 60, False),
    ("visits", "is", 3, True),
    ("visits", "is_not", 3, False),
    ("visits", "gt", 1, True),
    ("visits", "lt", 3, False),
    ("returning", "is", True, True),
    ("returning", "is_not", True, False),
    ("device", "is", "Mobile", True),
    ("device", "is_not", "desktop", True),
    ("browser", "contains", "chrome", True),
    ("os", "is", "iOS", False),
    ("language", "starts_with", "pt", True),
    ("timezone", "is", "America/Sao_Paulo", True),
    ("event.added_to_cart", "gt", 1, True),
    ("event.added_to_cart", "is", 2, True),
    ("event.checkout", "is", 0, True),
    ("event.checkout", "gt", 0, False),
    ("attribute.plan", "is", "pro", True),
    ("attribute.plan", "is_set", None, True),
    ("attribute.coupon", "is_set", None, False),
    ("attribute.coupon", "is_not", "x", True),
    ("attribute.seats", "gt", 10, True),
    ("attribute.seats", "lt", 10, False),
    ("attribute.seats", "is", 12, True),
    ("attribute.trial", "is", False, True),
    ("attribute.plan", "contains", "PR", True),
]


@pytest.mark.parametrize(("field", "op", "value", "holds"), CASES)
def test_every_operator(field: str, op: str, value: Any, holds: bool) -> None:
    leaf = {"field": field, "op": op, **({} if value is None else {"value": value})}
    tree = rules.validate_conditions({"all": [leaf]})
    explained: list[rules.LeafResult] = []
    assert rules.evaluate(tree, facts(), explained).holds is holds
    assert explained[0].field == field and explained[0].holds is holds


def test_groups_nest_and_explain_every_leaf() -> None:
    tree = {
        "any": [
            {"field": "device", "op": "is", "value": "desktop"},
            {
                "all": [
                    {"field": "visits", "op": "gt", "value": 2},
                    {"field": "utm.source", "op": "is", "value": "ads"},
                ]
            },
        ]
    }
    explained: list[rules.LeafResult] = []
    assert rules.evaluate(rules.validate_conditions(tree), facts(), explained).holds
    assert [(e.field, e.actual, e.holds) for e in explained] == [
        ("device", "mobile", False),
        ("visits", 3, True),
        ("utm.source", "ads", True),
    ]
    assert rules.evaluate({"all": []}, facts()).holds  # no conditions: everyone
    assert rules.describe(tree) == "Device is desktop or (visits is more than 2 and campaign source is ads)"
    assert rules.describe({}) == "Everyone"
    plain = {
        "all": [
            {"field": "returning", "op": "is", "value": True},
            {"field": "page.path", "op": "starts_with", "value": "/pricing"},
            {"field": "time_on_page", "op": "gt", "value": 30},
            {"field": "event.added_to_cart", "op": "gt", "value": 0},
            {"field": "attribute.plan", "op": "is_set"},
        ]
    }
    assert rules.describe(plain) == (
        "Returning visitor and page path starts with /pricing and time on the page is more than 30 seconds"
        " and “added_to_cart” happened and attribute “plan” is set"
    )


def test_time_conditions_say_when_they_will_hold() -> None:
    tree = {
        "all": [
            {"field": "time_on_page", "op": "gt", "value": 45},
            {"field": "visits", "op": "gt", "value": 1},
        ]
    }
    verdict = rules.evaluate(tree, facts())
    assert not verdict.holds
    assert verdict.at == NOW - timedelta(seconds=30) + timedelta(seconds=45, milliseconds=1)
    never = {
        "all": [
            {"field": "time_on_page", "op": "gt", "value": 45},
            {"field": "visits", "op": "gt", "value": 5},
        ]
    }
    assert rules.evaluate(never, facts()).at is None  # another condition fails for good
    either = {
        "any": [
            {"field": "time_on_site", "op": "gt", "value": 310},
            {"field": "time_on_page", "op": "gt", "value": 60},
        ]
    }
    assert rules.evaluate(either, facts()).at == NOW + timedelta(seconds=10, milliseconds=1)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(unclosed", "missing )"),
        (r"(a)\1", "no backreferences"),
        ("shop(?=/cart)", "lookarounds"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_with_the_reason(pattern: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.validate_conditions({"all": [{"field": "page.url", "op": "matches", "value": pattern}]})
    assert (caught.value.code, caught.value.extra["where"]) == ("pattern_unsupported", "conditions.all[0]")
    assert problem in caught.value.message


def test_a_pattern_that_would_backtrack_runs_in_linear_time() -> None:
    tree = rules.validate_conditions({"all": [{"field": "page.title", "op": "matches", "value": "^(a+)+$"}]})
    # Python's re takes about 2**500 steps here; RE2 one pass.
    assert rules.evaluate(tree, facts(page_title="a" * 511 + "!")).holds is False
    assert rules.evaluate(tree, facts(page_title="AAAA")).holds is True  # case-insensitive, as before


@pytest.mark.parametrize(
    ("tree", "problem"),
    [
        ({"every": []}, 'a group is {"all": [...]} or {"any": [...]}'),
        ({"all": [{"field": "page.colour", "op": "is", "value": "x"}]}, "unknown field 'page.colour'"),
        (
            {"all": [{"field": "visits", "op": "contains", "value": "1"}]},
            "visits takes is, is_not, gt, lt, is_set",
        ),
        ({"all": [{"field": "visits", "op": "gt", "value": "3"}]}, "visits gt needs a number"),
        ({"all": [{"field": "returning", "op": "is", "value": "yes"}]}, "returning is needs true or false"),
        ({"all": [{"field": "page.url", "op": "is", "value": "x", "extra": 1}]}, "unknown key 'extra'"),
        ({"all": [{"any": [{"all": [{"any": []}]}]}]}, "groups nest at most 3 deep"),
        ({"all": [{"field": "visits", "op": "gt", "value": 1}] * 21}, "21 conditions; at most 20"),
    ],
)
def test_bad_trees_are_refused_with_the_place(tree: Any, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.validate_conditions(tree)
    assert problem in caught.value.message
    assert caught.value.code == "invalid_rule"


@pytest.mark.parametrize(
    ("trigger", "ok"),
    [
        ({"type": "page_load"}, True),
        ({"type": "time_on_page", "seconds": 10}, True),
        ({"type": "time_on_site", "seconds": 0}, False),
        ({"type": "time_on_page", "seconds": "10"}, False),
        ({"type": "event", "name": "signed_up"}, True),
        ({"type": "event"}, False),
        ({"type": "scroll"}, False),
    ],
)
def test_triggers(trigger: Any, ok: bool) -> None:
    if ok:
        assert rules.validate_trigger(trigger)["type"] == trigger["type"]
    else:
        with pytest.raises(InvalidInput):
            rules.validate_trigger(trigger)


LISBON = Hours.parse(
    {
        "timezone": "Europe/Lisbon",
        "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        | {"sat": [["00:00", "24:00"]]},
        "holidays": ["2026-12-25"],
    }
)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-23T08:59:59+00:00", False),  # Monday 08:59 in Lisbon (UTC+0 in winter)
        ("2026-11-23T09:00:00+00:00", True),
        ("2026-11-23T17:59:59+00:00", True),
        ("2026-11-23T18:00:00+00:00", False),
        ("2026-11-27T23:59:59+00:00", False),  # Friday night
        ("2026-11-28T00:00:00+00:00", True),  # Saturday from midnight
        ("2026-11-28T23:59:59+00:00", True),
        ("2026-11-29T00:00:00+00:00", False),  # Sunday from midnight
        ("2026-12-25T10:00:00+00:00", False),  # a holiday on a Friday
        ("2026-12-24T10:00:00+00:00", True),
        # Summer time: 09:00 in Lisbon is 08:00 UTC; the change is on 2027-03-28.
        ("2027-03-26T08:30:00+00:00", False),  # Friday before: UTC+0, 08:30 local
        ("2027-03-29T08:30:00+00:00", True),  # Monday after: UTC+1, 09:30 local
        ("2027-03-29T16:59:00+00:00", True),  # 17:59 local
        ("2027-03-29T17:00:00+00:00", False),  # 18:00 local
    ],
)
def test_business_hours_at_the_edges(moment: str, open_: bool) -> None:
    when = datetime.fromisoformat(moment)
    assert LISBON.open_at(when) is open_
    assert rules.schedule_allows("business_hours", LISBON, when) is open_
    assert rules.schedule_allows("outside_business_hours", LISBON, when) is not open_
    assert rules.schedule_allows("any", LISBON, when)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "business_hours.timezone"),
        ({"weekly": {"monday": []}}, "business_hours.weekly"),
        ({"weekly": {"mon": [["18:00", "09:00"]]}}, "business_hours.weekly.mon"),
        ({"weekly": {"mon": [["9:00", "17:00"]]}}, "business_hours.weekly.mon"),
        ({"holidays": ["25/12/2026"]}, "business_hours.holidays"),
    ],
)
def test_bad_business_hours_are_refused(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Hours.parse(raw)
    assert caught.value.extra["field"] == field


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        ("2026-11-23T10:00:00+00:00", "2026-11-23T10:00:00+00:00"),  # open now: now
        ("2026-11-23T08:00:00+00:00", "2026-11-23T09:00:00+00:00"),  # Monday before opening
        ("2026-11-23T18:00:00+00:00", "2026-11-24T09:00:00+00:00"),  # Monday after closing
        ("2026-11-29T12:00:00+00:00", "2026-11-30T09:00:00+00:00"),  # closed Sunday
        ("2026-12-24T18:30:00+00:00", "2026-12-26T00:00:00+00:00"),  # past a holiday, to Saturday
        ("2027-03-26T18:30:00+00:00", "2027-03-27T00:00:00+00:00"),  # before summer time
        ("2027-03-28T12:00:00+00:00", "2027-03-29T08:00:00+00:00"),  # 09:00 Lisbon in summer
    ],
)
def test_the_next_opening(moment: str, opens: str) -> None:
    found = LISBON.next_open(datetime.fromisoformat(moment))
    assert found is not None and found == datetime.fromisoformat(opens)


def test_no_opening_without_hours() -> None:
    assert (
        Hours.parse({"timezone": "UTC"}).next_open(datetime.fromisoformat("2026-11-23T10:00:00+00:00"))
        is None
    )


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(5, "just now"), (60, "1 minute ago"), (300, "5 minutes ago"), (7200, "2 hours ago"),
     (86400, "yesterday"), (4 * 86400, "4 days ago")],
)  # fmt: skip
def test_how_long_ago_reads(seconds: int, said: str) -> None:
    from server.proactive.why import ago

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert ago(now - timedelta(seconds=seconds), now) == said
