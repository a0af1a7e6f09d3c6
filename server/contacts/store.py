"""Who a visitor is: attributes, identity from the host site, and merges.

Each function runs inside one write transaction (``Database.write``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from server.contacts import fields, refs
from server.contacts.models import Visitor, visitor_of
from server.contacts.search import index_visitor
from server.errors import InvalidInput, NotFound
from server.ids import iso, utcnow

visitors = Visitor.__table__  # type: ignore[attr-defined]

MAX_ATTRIBUTES = 100
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def visitor(conn: Connection, visitor_id: str) -> Visitor:
    row = conn.execute(select(visitors).where(visitors.c.id == visitor_id)).mappings().first()
    if row is None:
        raise NotFound(f"no visitor {visitor_id!r}", code="visitor_not_found")
    return visitor_of(row)


def set_attributes(conn: Connection, *, visitor_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Merge attributes into the visitor's; a value of null removes that key. The key
    ``ref`` is a link reference (server/contacts/refs.py), not an attribute."""
    found = visitor(conn, visitor_id)
    if "ref" in attributes:
        attributes = dict(attributes)
        refs.record(conn, visitor_id, refs.of_set(attributes.pop("ref"), utcnow()))
    merged = dict(found.attributes)
    for key, value in fields.typed(fields.definitions(conn, found.site_id), attributes).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_ATTRIBUTES:
        raise InvalidInput(
            f"a visitor may have at most {MAX_ATTRIBUTES} attributes; this would make {len(merged)}",
            code="too_many_attributes",
            limit=MAX_ATTRIBUTES,
        )
    conn.execute(update(visitors).where(visitors.c.id == visitor_id).values(attributes=merged))
    return merged


def mark_listed(conn: Connection, visitor_id: str) -> None:
    """The visitor is a contact from now on (they wrote, or told us who they are)."""
    conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor_id, visitors.c.listed_at.is_(None))
        .values(listed_at=utcnow())
    )


def user_hash(secret: str, user_id: str) -> str:
    """What a site's server computes for Parley('identify', {user_id, user_hash})."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def hash_valid(secret: str, user_id: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(user_hash(secret, user_id), given.lower())


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput(f"{email[:254]!r} is not an email address", code="invalid_email")
    return email


@dataclass(frozen=True)
class Identified:
    visitor: Visitor
    merged: bool  # this browser now speaks for an existing verified contact
    source: str | None = None  # merged: the visitor this browser was, whose conversations move


def identify(
    conn: Connection,
    *,
    visitor_id: str,
    user_id: str | None,
    name: str | None,
    email: str | None,
    verified: bool,
    phone: str | None = None,
) -> Identified:
    """Attach what the host site knows about this visitor.

    A verified user id that another visitor of the site already holds makes
    this browser that contact (``merged``, with ``source`` the visitor it was);
    moving its conversations is the caller's part of the same transaction
    (server/conversations/merge.py). An unverified call never touches a
    verified contact.
    """
    me = visitor(conn, visitor_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name.strip()[:200] or None
    if email is not None:
        changes["email"] = check_email(email) if email.strip() else None
    if phone is not None:
        changes["phone"] = phone.strip() or None
        changes["phone_digits"] = re.sub(r"\D", "", phone)[:20] or None
    target = me
    merged = False
    if user_id is not None and verified:
        row = (
            conn.execute(
                select(visitors).where(
                    visitors.c.site_id == me.site_id, visitors.c.user_id == user_id, visitors.c.verified
                )
            )
            .mappings()
            .first()
        )
        if row is not None and row["id"] != me.id:
            target = Visitor.model_validate(dict(row))
            merged = True
        else:
            changes.update(user_id=user_id, verified=True)
    elif user_id is not None:
        if me.verified and me.user_id != user_id:
            raise InvalidInput(
                "this visitor is a verified user; another user id needs a valid user_hash",
                code="identity_unverified",
            )
        if not me.verified:
            changes["user_id"] = user_id
    if changes:
        conn.execute(update(visitors).where(visitors.c.id == target.id).values(**changes))
        target = target.model_copy(update=changes)
        if {"name", "email", "phone"} & set(changes):
            index_visitor(conn, target.id, target.name, target.email, target.phone)
    if changes or merged:
        mark_listed(conn, target.id)
    return Identified(target, merged, me.id if merged else None)


def visitor_public(visitor: Visitor) -> dict[str, Any]:
    return {
        "id": visitor.id,
        "name": visitor.name,
        "email": visitor.email,
        "user_id": visitor.user_id,
        "verified": visitor.verified,
        "phone": visitor.phone,
    }


def profile(conn: Connection, visitor_id: str) -> dict[str, Any]:
    """Who the visitor is, as an agent sees it (server/tracking/reports.py adds what they did)."""
    found = visitor(conn, visitor_id)
    return {
        **visitor_public(found),
        "site_id": found.site_id,
        "attributes": found.attributes,
        "tags": found.tags,
        "locale": found.locale,
        "timezone": found.timezone,
        "visit_count": found.visit_count,
        "created_at": iso(found.created_at),
        "last_seen_at": iso(found.last_seen_at),
    }
