"""The contact base: adding contacts by hand, finding them, tags and fields, and the
history of every change (who changed what, when).

Each function runs inside one write transaction (``Database.write``) or one read.
Emails are checked with ``email-validator``; phones become E.164 with
``phonenumbers``, read in the site's default country when they carry no ``+``.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, Text, and_, cast, func, insert, literal_column, or_, select, update

from server.contacts import fields
from server.contacts.models import ContactChange, ContactImport, Visitor, visitor_of
from server.contacts.search import Matches, index_visitor, matching
from server.contacts.store import MAX_ATTRIBUTES, visitor, visitors
from server.errors import Conflict, InvalidInput
from server.ids import iso, new_id, utcnow

changes = ContactChange.__table__  # type: ignore[attr-defined]
imports_table = ContactImport.__table__  # type: ignore[attr-defined]

MAX_TAGS = 30
TAG = re.compile(r"^[\w][\w .:-]{0,39}$")
SORTS = {"last_seen": "last_seen_at", "created": "listed_at", "name": "name"}
PAGE = 50


@dataclass(frozen=True)
class Actor:
    """Who changes a contact, as the history shows it."""

    type: str  # agent | bot | proactive | import | visitor | api
    id: str | None = None
    name: str | None = None


# -- checking what people type ------------------------------------------------------------


def clean_email(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise InvalidInput("email: a string", code="invalid_email", field="email")
    text = raw.strip()
    local, _, domain = text.rpartition("@")
    if _PLAIN_LOCAL.match(local) and len(text) <= 254:
        # The common case, a plain ASCII name at a domain seen before: only the domain
        # needs email-validator's work (most of its time), and that is kept.
        checked = _domain(domain)
        if checked is not None:
            return f"{local}@{checked}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"email: {exc}", code="invalid_email", field="email") from None


# A dot-atom local part (RFC 5322) of ASCII letters, digits and the usual symbols, at most
# 64 characters: email-validator takes it as it is. Anything else goes through it whole.
_PLAIN_LOCAL = re.compile(
    r"^(?=.{1,64}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
)


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """The domain as email-validator normalises it, or None when it refuses it (then the
    whole address goes through email-validator, for its message)."""
    try:
        return validate_email("a@" + domain, check_deliverability=False).domain
    except EmailNotValidError:
        return None


def clean_phone(raw: Any, country: str | None) -> str | None:
    """The phone in E.164 (+351912345678), or InvalidInput saying why not."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise InvalidInput("phone: a string of at most 40 characters", code="invalid_phone", field="phone")
    try:
        number = phonenumbers.parse(raw, None if raw.strip().startswith("+") else country)
    except phonenumbers.NumberParseException:
        where = f" (read in {country})" if country else "; start it with + and the country code"
        raise InvalidInput(
            f"phone: {raw!r} is not a phone number{where}", code="invalid_phone", field="phone"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"phone: {raw!r} is not a valid number", code="invalid_phone", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_tag(raw: Any) -> str:
    if not isinstance(raw, str) or not TAG.match(raw.strip()):
        raise InvalidInput(
            "a tag is 1-40 letters, digits, spaces, '.', ':', '-' or '_'", code="invalid_tag", field="tag"
        )
    return raw.strip()


def clean_name(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw.strip()) > 200:
        raise InvalidInput("name: at most 200 characters", code="invalid_input", field="name")
    return raw.strip() or None


# -- the history ------------------------------------------------------------------------------


def record(conn: Connection, visitor_id: str, by: Actor, field: str, old: Any, new: Any) -> None:
    if old == new:
        return
    conn.execute(
        insert(changes).values(
            id=new_id("chg"),
            visitor_id=visitor_id,
            actor_type=by.type,
            actor_id=by.id,
            actor_name=by.name,
            field=field,
            old=old,
            new=new,
            at=utcnow(),
        )
    )


def history(conn: Connection, visitor_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The contact's changes, newest first. A contact an import added has no row for its
    creation (an import adds thousands a second; one row each would halve that): the
    import is the record, shown as the oldest entry."""
    rows = conn.execute(
        select(changes)
        .where(changes.c.visitor_id == visitor_id)
        .order_by(changes.c.at.desc(), changes.c.id.desc())
        .limit(limit)
    ).mappings()
    found = [
        {
            "field": r["field"],
            "old": r["old"],
            "new": r["new"],
            "at": iso(r["at"]),
            "by": {"type": r["actor_type"], "id": r["actor_id"], "name": r["actor_name"]},
        }
        for r in rows
    ]
    me = conn.execute(select(visitors).where(visitors.c.id == visitor_id)).mappings().first()
    if me is not None and (me["added_by"] or "").startswith("imp_") and len(found) < limit:
        name = conn.execute(
            select(imports_table.c.filename).where(imports_table.c.id == me["added_by"])
        ).scalar()
        found.append({
            "field": "created",
            "old": None,
            "new": {"name": me["name"], "email": me["email"], "phone": me["phone"]},
            "at": iso(me["created_at"]),
            "by": {"type": "import", "id": me["added_by"], "name": name},
        })  # fmt: skip
    return found


# -- adding, listing, changing ----------------------------------------------------------------


def candidates(
    conn: Connection, site_id: str, *, user_ids: set[str], emails: set[str], phones: set[str]
) -> list[Visitor]:
    """The site's contacts holding any of these user ids, emails (any case) or E.164 phones,
    oldest first, through the indexes on (site, user id), (site, lower(email)) and
    (site, phone): never a scan."""
    emails = {e.lower() for e in emails}
    rows: list[Any] = []
    for column, wanted in (
        (visitors.c.user_id, user_ids),
        (func.lower(visitors.c.email), emails),
        (visitors.c.phone, phones),
    ):
        if wanted:
            query = select(visitors).where(visitors.c.site_id == site_id, column.in_(sorted(wanted)))
            rows += conn.execute(query).mappings().all()
    found = {r["id"]: visitor_of(r) for r in rows}.values()
    return sorted(found, key=lambda v: v.created_at)


def duplicate(
    conn: Connection, site_id: str, *, email: str | None, phone: str | None, user_id: str | None = None
) -> Visitor | None:
    """The site's contact with this user id, else this email, else this E.164 phone."""
    found = candidates(conn, site_id, user_ids={user_id} if user_id else set(),
                       emails={email} if email else set(), phones={phone} if phone else set())  # fmt: skip
    for holds in (
        lambda v: bool(user_id) and v.user_id == user_id,
        lambda v: bool(email) and (v.email or "").lower() == (email or "").lower(),
        lambda v: bool(phone) and v.phone == phone,
    ):
        match = next((v for v in found if holds(v)), None)
        if match is not None:
            return match
    return None


def add(conn: Connection, site_id: str, body: dict[str, Any], by: Actor, country: str | None) -> Visitor:
    """A contact added by hand: a name, an email or a phone at least; refused with
    ``contact_exists`` (and the existing contact's id) when the email or phone is taken."""
    unknown = set(body) - {"name", "email", "phone", "tags", "attributes"}
    if unknown:
        raise InvalidInput(
            f"unknown field {sorted(unknown)[0]!r}", code="invalid_input", field=sorted(unknown)[0]
        )
    name = clean_name(body.get("name"))
    email = clean_email(body.get("email"))
    phone = clean_phone(body.get("phone"), country)
    if not (name or email or phone):
        raise InvalidInput("a contact needs a name, an email or a phone", code="contact_empty", field="name")
    tags = _tags(body.get("tags", []))
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, dict) or len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(
            f"attributes: an object of at most {MAX_ATTRIBUTES} keys",
            code="invalid_input",
            field="attributes",
        )
    typed = fields.typed(fields.definitions(conn, site_id), attributes)
    attributes = {k: v for k, v in typed.items() if v is not None}
    found = duplicate(conn, site_id, email=email, phone=phone)
    if found is not None:
        same = "email" if email and found.email and found.email.lower() == email.lower() else "phone"
        raise Conflict(
            f"{found.name or found.email or found.phone} already has this {same}",
            code="contact_exists",
            field=same,
            contact_id=found.id,
            url=f"/contacts/{found.id}",
        )
    now = utcnow()
    contact = Visitor(
        site_id=site_id,
        name=name,
        email=email,
        phone=phone,
        phone_digits=re.sub(r"\D", "", phone or "")[:20] or None,
        client_kind="web",
        attributes=attributes,
        tags=tags,
        added_by=by.id,
        created_at=now,
        last_seen_at=now,
        listed_at=now,
    )
    conn.execute(insert(visitors).values(contact.model_dump()))
    index_visitor(conn, contact.id, name, email, phone)
    record(
        conn, contact.id, by, "created", None, {"name": name, "email": email, "phone": phone, "tags": tags}
    )
    return contact


def change(
    conn: Connection, visitor_id: str, body: dict[str, Any], by: Actor, country: str | None
) -> Visitor:
    """Change a contact's name, email, phone or attributes, each change in the history."""
    unknown = set(body) - {"name", "email", "phone", "attributes"}
    if unknown:
        raise InvalidInput(
            f"unknown field {sorted(unknown)[0]!r}", code="invalid_input", field=sorted(unknown)[0]
        )
    me = visitor(conn, visitor_id)
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = clean_name(body["name"])
    if "email" in body:
        values["email"] = clean_email(body["email"])
    if "phone" in body:
        values["phone"] = clean_phone(body["phone"], country)
        values["phone_digits"] = re.sub(r"\D", "", values["phone"] or "")[:20] or None
    if "attributes" in body:
        given = body["attributes"]
        if not isinstance(given, dict):
            raise InvalidInput("attributes: an object", code="invalid_input", field="attributes")
        given = fields.typed(fields.definitions(conn, me.site_id), given)
        merged = {k: v for k, v in {**me.attributes, **given}.items() if v is not None}
        if len(merged) > MAX_ATTRIBUTES:
            raise InvalidInput(
                f"at most {MAX_ATTRIBUTES} attributes", code="too_many_attributes", field="attributes"
            )
        if merged != me.attributes:
            values["attributes"] = merged
    other = duplicate(conn, me.site_id, email=values.get("email"), phone=values.get("phone"))
    if other is not None and other.id != me.id:
        raise Conflict(
            f"{other.name or other.email or other.phone} already has this email or phone",
            code="contact_exists",
            contact_id=other.id,
            url=f"/contacts/{other.id}",
        )
    if not values:
        return me
    conn.execute(update(visitors).where(visitors.c.id == me.id).values(**values))
    for key in ("name", "email", "phone"):
        if key in values:
            record(conn, me.id, by, key, getattr(me, key), values[key])
    if "attributes" in values:
        for key in sorted(set(me.attributes) | set(values["attributes"])):
            old, new = me.attributes.get(key), values["attributes"].get(key)
            if old != new:
                record(conn, me.id, by, f"attribute.{key}", old, new)
    updated = me.model_copy(update=values)
    if {"name", "email", "phone"} & set(values):
        index_visitor(conn, me.id, updated.name, updated.email, updated.phone)
    return updated


def tag(conn: Connection, visitor_id: str, tags: list[str], by: Actor, *, remove: bool = False) -> list[str]:
    """Add (or remove) tags on the contact; returns them all. Bots and proactive messages
    tag the contact through here too."""
    me = visitor(conn, visitor_id)
    given = [clean_tag(t) for t in tags]
    now = [t for t in me.tags if t not in given] if remove else list(dict.fromkeys([*me.tags, *given]))
    if len(now) > MAX_TAGS:
        raise InvalidInput(f"a contact has at most {MAX_TAGS} tags", code="too_many_tags", limit=MAX_TAGS)
    if now != me.tags:
        conn.execute(update(visitors).where(visitors.c.id == me.id).values(tags=now))
        record(conn, me.id, by, "tags", me.tags, now)
    return now


def tag_by_automation(conn: Connection, visitor_id: str, tags: list[str], by: Actor) -> list[str]:
    """Tags a bot's step or a proactive message puts on the contact: the valid ones, up to
    the limit, never an error in the middle of their run."""
    me = visitor(conn, visitor_id)
    fitting = [t for t in dict.fromkeys(tags) if isinstance(t, str) and TAG.match(t) and t not in me.tags]
    room = max(0, MAX_TAGS - len(me.tags))
    return tag(conn, visitor_id, fitting[:room], by) if fitting[:room] else me.tags


def _tags(raw: Any) -> list[str]:
    if not isinstance(raw, list) or len(raw) > MAX_TAGS:
        raise InvalidInput(f"tags: a list of at most {MAX_TAGS}", code="invalid_tag", field="tags")
    return list(dict.fromkeys(clean_tag(t) for t in raw))


@dataclass(frozen=True)
class Filters:
    query: str = ""
    tag: str | None = None
    field: str | None = None  # a custom field's (or attribute's) key
    value: str | None = None  # what it is; None: that it is set at all
    sort: str = "last_seen"
    descending: bool = True
    cursor: str | None = None
    limit: int = PAGE


def listed_query(
    conn: Connection, site_id: str, f: Filters, also: Sequence[Any] = (), found: Any = None
) -> Any:
    """The site's contacts that the filters and search find, unsorted (for a count, or
    for ``listed`` to page). ``found``: the search's matching, when already run."""
    query = select(visitors).where(visitors.c.site_id == site_id, visitors.c.listed_at.is_not(None))
    found = matching(conn, f.query, visitors.c.id) if found is None else found
    if isinstance(found, Matches):
        query = query.where(visitors.c.id.in_(found.sure | found.named))
    elif found is not None:
        query = query.where(found)
    if f.tag:
        query = query.where(_has_tag(f.tag))
    if f.field:
        query = query.where(_field_is(conn, site_id, f.field, f.value))
    for condition in also:
        query = query.where(condition)
    return query


def listed(
    conn: Connection,
    site_id: str,
    f: Filters,
    also: Sequence[Any] = (),
    shape: Callable[[Visitor], Any] | None = None,
) -> dict[str, Any]:
    """A page of the site's contacts, filtered, searched and sorted, with a cursor to the
    next, each contact as ``shape`` makes it (``summary`` by default). ``also``: more
    conditions on ``visitors`` from the parts above this one (what their conversations
    are: server/conversations/directory.py)."""
    column = visitors.c[SORTS[f.sort]]
    found = matching(conn, f.query, visitors.c.id)
    query = listed_query(conn, site_id, f, also, found)
    if f.cursor:
        value, last_id = _cursor(f.cursor)
        if f.sort != "name":
            value = datetime.fromisoformat(value) if value else None
        sortable = func.coalesce(column, literal_column("''")) if f.sort == "name" else column
        after = (sortable < value) if f.descending else (sortable > value)
        query = query.where(
            or_(
                after,
                and_(
                    sortable == value,
                    (visitors.c.id < last_id) if f.descending else (visitors.c.id > last_id),
                ),
            )
        )
    sortable = func.coalesce(column, literal_column("''")) if f.sort == "name" else column
    order = [sortable.desc(), visitors.c.id.desc()] if f.descending else [sortable.asc(), visitors.c.id.asc()]
    # The page's ids first, then its rows: a search's thousands of candidates are sorted
    # as (id, key), not as whole rows, from an index that holds both (ix_visitors_search_sort).
    keys = [visitors.c.id, column]
    if isinstance(found, Matches) and column is not visitors.c.name:
        keys.append(visitors.c.name)  # Matches.keeps reads it
    narrow = query.with_only_columns(*keys)
    rows = conn.execute(narrow.order_by(*order).limit(f.limit + 1)).mappings().all()
    if isinstance(found, Matches):
        rows = [r for r in rows if found.keeps({"visitor_id": r["id"], "name": r["name"]})]
    page = rows[: f.limit]
    more = len(rows) > f.limit
    last = page[-1] if page and more else None
    ids = [r["id"] for r in page]
    full = {r["id"]: r for r in conn.execute(select(visitors).where(visitors.c.id.in_(ids))).mappings()}
    return {
        "contacts": [(shape or summary)(visitor_of(full[i])) for i in ids],
        "next_cursor": _cursor_of(last[SORTS[f.sort]] if last else None, last["id"]) if last else None,
    }


def _has_tag(tag: str) -> Any:
    # Tags are a JSON list; the quoted tag inside it is an exact, case-sensitive match.
    return cast(visitors.c.tags, Text).contains(json.dumps(tag, ensure_ascii=False))


def _field_is(conn: Connection, site_id: str, key: str, raw: str | None) -> Any:
    """The condition "this field is set" (raw None) or "this field is raw", compared by
    the field's type: 3 finds 3.0, "yes" finds true."""
    value = visitors.c.attributes[key]
    if raw is None:
        return value.as_string().is_not(None)
    defined = next((d for d in fields.definitions(conn, site_id) if d.key == key), None)
    if defined is None:
        return value.as_string() == raw
    typed = fields.value_of(defined, raw)
    if typed is None:
        return value.as_string().is_(None)
    # PostgreSQL's ->> gives JSON's text (3, true): no cast that a stray value could break.
    # SQLite's json_extract gives SQL values (3, 1): compared as numbers.
    postgres = conn.dialect.name == "postgresql"
    if defined.type == "number":
        return value.as_string() == json.dumps(typed) if postgres else value.as_float() == float(typed)
    if defined.type == "boolean":
        return value.as_string() == json.dumps(typed) if postgres else value.as_integer() == int(typed)
    if defined.type == "text":
        return func.lower(value.as_string()) == typed.lower()
    return value.as_string() == typed


def _cursor_of(value: Any, last_id: str) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else (value or ""), last_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor(raw: str) -> tuple[Any, str]:
    try:
        value, last_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        assert isinstance(last_id, str)
        return value, last_id
    except Exception:
        raise InvalidInput(
            "cursor: use next_cursor as it came", code="invalid_cursor", field="cursor"
        ) from None


def summary(v: Visitor) -> dict[str, Any]:
    return {
        "id": v.id,
        "name": v.name,
        "email": v.email,
        "phone": v.phone,
        "tags": v.tags,
        "user_id": v.user_id,
        "verified": v.verified,
        "listed_at": iso(v.listed_at) if v.listed_at else None,
        "last_seen_at": iso(v.last_seen_at),
        "created_at": iso(v.created_at),
        "added_by": v.added_by,
    }
