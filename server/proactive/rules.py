"""Rules: conditions, triggers, schedules and frequencies, checked and explained.

A condition tree is ``{"all": [...]}`` or ``{"any": [...]}`` whose items are
groups again or leaves ``{"field": "page.url", "op": "contains", "value": "pricing"}``.
``validate`` refuses anything malformed with a message that names the place;
``evaluate`` answers, for one visitor at one moment, whether the tree holds,
why (every leaf with its actual value), and — when it does not hold only
because not enough time has passed — the moment it will.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from server import operators, patterns
from server.contacts.fields import Field
from server.errors import InvalidInput
from server.sites.hours import Hours

MAX_DEPTH = 3
MAX_LEAVES = 20

# field -> its type. "event.NAME" (times the event happened this visit) and
# "attribute.KEY" (the visitor's custom attribute) are open-ended families.
FIELDS: dict[str, str] = {
    "page.url": "text",
    "page.path": "text",
    "page.title": "text",
    "page.referrer": "text",
    "utm.source": "text",
    "utm.medium": "text",
    "utm.campaign": "text",
    "utm.term": "text",
    "utm.content": "text",
    # link references (server/contacts/refs.py), as their word or campaign
    "contact.ref": "text",
    "contact.first_ref": "text",
    "conversation.ref": "text",
    "time_on_page": "number",  # seconds
    "time_on_site": "number",  # seconds, this visit
    "visits": "number",  # visit count, this one included
    "returning": "boolean",
    "device": "text",  # desktop | mobile | tablet | bot
    "browser": "text",
    "os": "text",
    "language": "text",  # the browser's, e.g. pt-BR
    "timezone": "text",
}
TIME_FIELDS = ("time_on_page", "time_on_site")
REF_FIELDS = ("contact.ref", "contact.first_ref", "conversation.ref")

OPERATORS: dict[str, tuple[str, ...]] = {
    "text": ("is", "is_not", "contains", "not_contains", "starts_with", "matches", "is_set"),
    "number": ("is", "is_not", "gt", "lt", "is_set"),
    "boolean": ("is", "is_not"),
    "any": ("is", "is_not", "contains", "not_contains", "starts_with", "matches", "gt", "lt", "is_set"),
}
OPERATOR_LABELS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "matches": "matches pattern",
    "gt": "is greater than",
    "lt": "is less than",
    "is_set": "is set",
}
TRIGGERS = ("page_load", "time_on_page", "time_on_site", "event")
SCHEDULES = ("any", "business_hours", "outside_business_hours")
FREQUENCIES = ("once", "once_per_visit", "every_time")


def field_type(name: str) -> str | None:
    if name in FIELDS:
        return FIELDS[name]
    if name.startswith("event.") and len(name) > 6:
        return "number"
    if name.startswith("attribute.") and len(name) > 10:
        return "any"
    return None


# -- validation ----------------------------------------------------------------------


def _rule(message: str, where: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_rule", where=where)


def _setting(message: str, where: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_setting", field=where)


def _bad(where: str, problem: str) -> InvalidInput:
    return InvalidInput(f"conditions{where}: {problem}", code="invalid_rule", where=f"conditions{where}")


def validate_conditions(tree: Any) -> dict[str, Any]:
    """The tree as given, or InvalidInput naming the first problem and where it is."""
    if tree in (None, {}):
        return {"all": []}
    leaves = _check_group(tree, "", 1)
    if leaves > MAX_LEAVES:
        raise _bad("", f"{leaves} conditions; at most {MAX_LEAVES}")
    return dict(tree)


def _check_group(node: Any, where: str, depth: int) -> int:
    if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in ("all", "any"):
        raise _bad(where, 'a group is {"all": [...]} or {"any": [...]}')
    if depth > MAX_DEPTH:
        raise _bad(where, f"groups nest at most {MAX_DEPTH} deep")
    kind, items = next(iter(node.items()))
    if not isinstance(items, list):
        raise _bad(where, f'"{kind}" takes a list')
    leaves = 0
    for i, item in enumerate(items):
        place = f"{where}.{kind}[{i}]"
        if isinstance(item, dict) and "field" in item:
            _check_leaf(item, place)
            leaves += 1
        else:
            leaves += _check_group(item, place, depth + 1)
    return leaves


def _check_leaf(leaf: dict[str, Any], where: str) -> None:
    unknown = set(leaf) - {"field", "op", "value"}
    if unknown:
        raise _bad(where, f"unknown key {sorted(unknown)[0]!r}")
    name, op = leaf.get("field"), leaf.get("op")
    kind = field_type(name) if isinstance(name, str) else None
    if kind is None:
        raise _bad(where, f"unknown field {name!r}")
    if op not in OPERATORS[kind]:
        raise _bad(where, f"{name} takes {', '.join(OPERATORS[kind])}, not {op!r}")
    if op == "is_set":
        return
    value = leaf.get("value")
    if kind == "number" or op in ("gt", "lt"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _bad(where, f"{name} {op} needs a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(where, f"{name} {op} needs true or false")
    elif not isinstance(value, str | int | float | bool) or (isinstance(value, str) and len(value) > 500):
        raise _bad(where, f"{name} {op} needs a value of at most 500 characters")
    if op == "matches":
        try:
            patterns.compile_pattern(str(value))
        except patterns.PatternError as exc:
            raise InvalidInput(
                f"conditions{where}: the pattern {str(value)[:60]!r} is refused: {exc}",
                code="pattern_unsupported",
                where=f"conditions{where}",
            ) from None


def validate_trigger(trigger: Any) -> dict[str, Any]:
    if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGERS:
        raise InvalidInput(
            f"trigger type must be one of {', '.join(TRIGGERS)}", code="invalid_rule", where="trigger"
        )
    kind = trigger["type"]
    if kind in ("time_on_page", "time_on_site"):
        seconds = trigger.get("seconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 1 <= seconds <= 86_400:
            raise _rule(f"{kind} needs whole seconds from 1 to 86400", "trigger.seconds")
        return {"type": kind, "seconds": seconds}
    if kind == "event":
        name = trigger.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise InvalidInput(
                "an event trigger needs the event's name", code="invalid_rule", where="trigger.name"
            )
        return {"type": kind, "name": name}
    return {"type": kind}


# -- evaluation ----------------------------------------------------------------------


@dataclass
class Facts:
    """What is known about one visitor on one page, at one moment."""

    now: datetime
    page_url: str = ""
    page_title: str = ""
    page_referrer: str = ""
    page_since: datetime | None = None
    visit_since: datetime | None = None
    visits: int = 1
    device: str | None = None
    browser: str | None = None
    os: str | None = None
    language: str | None = None
    timezone: str | None = None
    utm: Mapping[str, Any] = field(default_factory=dict)
    events: Mapping[str, int] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    refs: Mapping[str, str | None] = field(default_factory=dict)  # contact.ref, conversation.ref, …

    def value(self, name: str) -> Any:
        if name == "page.url":
            return self.page_url
        if name == "page.path":
            return _path(self.page_url)
        if name == "page.title":
            return self.page_title
        if name == "page.referrer":
            return self.page_referrer
        if name.startswith("utm."):
            return self.utm.get(name[4:])
        if name == "time_on_page":
            return _seconds(self.now, self.page_since)
        if name == "time_on_site":
            return _seconds(self.now, self.visit_since)
        if name == "visits":
            return self.visits
        if name == "returning":
            return self.visits > 1
        if name.startswith("event."):
            return self.events.get(name[6:], 0)
        if name.startswith("attribute."):
            return self.attributes.get(name[10:])
        if name in REF_FIELDS:
            return self.refs.get(name)
        return getattr(self, name, None)


def _seconds(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def _path(url: str) -> str:
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^/?#]*([^?#]*)", url, re.I)
    return (match.group(1) or "/") if match else url


@dataclass(frozen=True)
class Verdict:
    holds: bool
    # When not holding only because of time: the moment it will hold.
    at: datetime | None = None


@dataclass
class LeafResult:
    field: str
    op: str
    expected: Any
    actual: Any
    holds: bool


def evaluate(tree: Mapping[str, Any], facts: Facts, explain: list[LeafResult] | None = None) -> Verdict:
    """Whether the tree holds for these facts, and if it will once time passes, when."""
    kind, items = next(iter(tree.items())) if tree else ("all", [])
    if not items:
        return Verdict(True)  # no conditions: everyone
    verdicts = []
    for item in items:
        if "field" in item:
            verdicts.append(_leaf(item, facts, explain))
        else:
            verdicts.append(evaluate(item, facts, explain))
    if kind == "all":
        if all(v.holds for v in verdicts):
            return Verdict(True)
        if all(v.holds or v.at is not None for v in verdicts):
            return Verdict(False, max(v.at for v in verdicts if v.at is not None))
        return Verdict(False)
    if any(v.holds for v in verdicts):
        return Verdict(True)
    later = [v.at for v in verdicts if v.at is not None]
    return Verdict(False, min(later) if later else None)


def _leaf(leaf: Mapping[str, Any], facts: Facts, explain: list[LeafResult] | None) -> Verdict:
    name, op, expected = leaf["field"], leaf["op"], leaf.get("value")
    actual = facts.value(name)
    holds = operators.holds(op, actual, expected)
    if explain is not None:
        shown = round(actual, 1) if isinstance(actual, float) else actual
        explain.append(LeafResult(name, op, expected, shown, holds))
    if holds:
        return Verdict(True)
    # Time on page and on site only grow: "greater than N" becomes true at a known moment.
    if name in TIME_FIELDS and op == "gt":
        since = facts.page_since if name == "time_on_page" else facts.visit_since
        if since is not None and isinstance(expected, int | float):
            return Verdict(False, since + timedelta(seconds=float(expected), milliseconds=1))
    return Verdict(False)


def schedule_allows(schedule: str, hours: Hours, moment: datetime) -> bool:
    if schedule == "any":
        return True
    is_open = hours.open_at(moment)
    return is_open if schedule == "business_hours" else not is_open


# -- how a rule reads -------------------------------------------------------------------


# How fields read in a sentence ("Page path starts with /pricing").
FIELD_WORDS: dict[str, str] = {
    "page.url": "page address",
    "page.path": "page path",
    "page.title": "page title",
    "page.referrer": "referrer",
    "utm.source": "campaign source",
    "utm.medium": "campaign medium",
    "utm.campaign": "campaign",
    "utm.term": "campaign term",
    "utm.content": "campaign content",
    "contact.ref": "contact's latest link reference",
    "contact.first_ref": "contact's first link reference",
    "conversation.ref": "open conversation's link reference",
    "time_on_page": "time on the page",
    "time_on_site": "time on the site",
    "visits": "visits",
    "device": "device",
    "browser": "browser",
    "os": "operating system",
    "language": "browser language",
    "timezone": "time zone",
}
OPERATOR_WORDS = {**OPERATOR_LABELS, "gt": "is more than", "lt": "is less than"}


def _leaf_words(leaf: Mapping[str, Any]) -> str:
    name, op, value = leaf["field"], leaf["op"], leaf.get("value")
    if name == "returning" and op in ("is", "is_not") and isinstance(value, bool):
        return "returning visitor" if value == (op == "is") else "new visitor"
    if name.startswith("event."):
        event = f"“{name.removeprefix('event.')}”"
        times = "time" if value == 1 else "times"
        return {
            "gt": f"{event} happened" if value == 0 else f"{event} happened more than {value} {times}",
            "lt": f"{event} happened fewer than {value} {times}",
            "is": f"{event} happened {value} {times}",
            "is_not": f"{event} did not happen {value} {times}",
        }.get(op, f"{event} happened")
    if name.startswith("attribute."):
        subject = f"attribute “{name.removeprefix('attribute.')}”"
    else:
        subject = FIELD_WORDS.get(name, name)
    if op == "is_set":
        return f"{subject} is set"
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    if name in TIME_FIELDS and op in ("gt", "lt", "is", "is_not"):
        shown += " second" + ("" if value == 1 else "s")
    return f"{subject} {OPERATOR_WORDS[op]} {shown}"


# The condition builder's groups of fields, and the choices of the fields that have few.
FIELD_GROUPS = {
    "Page": ("page.path", "page.url", "page.title", "page.referrer"),
    "Visit": ("time_on_page", "time_on_site", "visits", "returning"),
    "Campaign": ("utm.source", "utm.medium", "utm.campaign", "utm.term", "utm.content", *REF_FIELDS),
    "Device": ("device", "browser", "os", "language", "timezone"),
}
FIELD_CHOICES = {
    "device": ("desktop", "mobile", "tablet", "bot"),
    "language": ("en", "en-US", "en-GB", "pt", "pt-BR", "pt-PT", "es", "es-ES", "es-MX", "fr", "de", "it"),
    "browser": ("Chrome", "Safari", "Firefox", "Edge", "Opera", "Samsung Internet"),
    "os": ("Windows", "macOS", "iOS", "Android", "Linux", "ChromeOS"),
}


# A custom field's type as a rule sees it: a date (YYYY-MM-DD) compares as words do.
CUSTOM_TYPES = {"text": "text", "number": "number", "date": "any", "boolean": "boolean", "choice": "text"}


def builder_schema(custom: Sequence[Field] = ()) -> dict[str, Any]:
    """What the admin's condition builder offers: fields by group with their type and
    fitting input, each type's operators, and the tree's limits; ``custom``: the site's
    contact fields, each offered by its label (as ``attribute.KEY``)."""
    fields = [
        {
            "name": name,
            "label": FIELD_WORDS.get(name, "returning visitor").capitalize(),
            "type": FIELDS[name],
            "group": group,
            "unit": "seconds" if name in TIME_FIELDS else None,
            "choices": list(FIELD_CHOICES.get(name, ())),
            # a device is one of a few words: choose it, do not type it
            "strict": name == "device",
        }
        for group, names in FIELD_GROUPS.items()
        for name in names
    ]
    fields += [
        {"name": "event.", "label": "Custom event, times this visit", "type": "number", "group": "Custom",
         "family": "event name", "choices": [], "unit": "times", "strict": False},
        {"name": "attribute.", "label": "Visitor attribute", "type": "any", "group": "Custom",
         "family": "attribute key", "choices": [], "unit": None, "strict": False},
    ]  # fmt: skip
    fields[-2:-2] = [
        {"name": f"attribute.{f.key}", "label": f.label, "type": CUSTOM_TYPES[f.type],
         "group": "Contact fields", "choices": list(f.choices), "unit": None, "strict": f.type == "choice"}
        for f in custom
    ]  # fmt: skip
    return {
        "fields": fields,
        "operators": {kind: [[op, OPERATOR_LABELS[op]] for op in ops] for kind, ops in OPERATORS.items()},
        "max_depth": MAX_DEPTH,
        "max_leaves": MAX_LEAVES,
    }


def describe(tree: Mapping[str, Any], *, top: bool = True) -> str:
    """The tree in plain words, for the admin list: "Returning visitor and page path starts
    with /pricing"; groups inside groups in parentheses."""
    kind, items = next(iter(tree.items())) if tree else ("all", [])
    if not items:
        return "Everyone" if top else "everyone"
    parts = [_leaf_words(i) if "field" in i else f"({describe(i, top=False)})" for i in items]
    words = f" {'and' if kind == 'all' else 'or'} ".join(parts)
    return words[:1].upper() + words[1:] if top else words
