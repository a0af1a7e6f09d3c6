"""What the widget and SDKs report about a visitor: pages, events, attributes, identity.

Each function runs inside one write transaction (``Database.write``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.conversations.inbox import index_visitor
from server.conversations.store import conversations
from server.errors import InvalidInput, NotFound
from server.ids import iso, utcnow
from server.tracking.models import PageView, TrackedEvent, Visitor
from server.tracking.store import visitors, visits

page_views = PageView.__table__  # type: ignore[attr-defined]
tracked_events = TrackedEvent.__table__  # type: ignore[attr-defined]

MAX_ATTRIBUTES = 100
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _touch_visit(conn: Connection, visitor_id: str, now: datetime) -> None:
    latest = (
        select(visits.c.id)
        .where(visits.c.visitor_id == visitor_id)
        .order_by(visits.c.last_activity_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(update(visits).where(visits.c.id == latest).values(last_activity_at=now))


def record_page_view(
    conn: Connection,
    *,
    visitor_id: str,
    site_id: str,
    url: str | None,
    title: str | None,
    referrer: str | None,
    page_id: str | None = None,
) -> None:
    """Keep a page view; one the client already reported (a reconnect from the same page) is kept once."""
    now = utcnow()
    view = PageView(visitor_id=visitor_id, site_id=site_id, url=url, title=title, referrer=referrer, at=now)
    if page_id is not None:  # one row per visitor and client page id
        view.id = "pv_" + hashlib.sha256(f"{visitor_id}:{page_id}".encode()).hexdigest()[:24]
    try:
        with conn.begin_nested():
            conn.execute(insert(page_views).values(view.model_dump()))
    except IntegrityError:
        pass
    _touch_visit(conn, visitor_id, now)


def record_event(
    conn: Connection, *, visitor_id: str, site_id: str, name: str, props: dict[str, Any]
) -> None:
    now = utcnow()
    event = TrackedEvent(visitor_id=visitor_id, site_id=site_id, name=name, props=props, at=now)
    conn.execute(insert(tracked_events).values(event.model_dump()))
    _touch_visit(conn, visitor_id, now)


def _visitor(conn: Connection, visitor_id: str) -> Visitor:
    row = conn.execute(select(visitors).where(visitors.c.id == visitor_id)).mappings().first()
    if row is None:
        raise NotFound(f"no visitor {visitor_id!r}", code="visitor_not_found")
    return Visitor.model_validate(dict(row))


def set_attributes(conn: Connection, *, visitor_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Merge attributes into the visitor's; a value of null removes that key."""
    visitor = _visitor(conn, visitor_id)
    merged = dict(visitor.attributes)
    for key, value in attributes.items():
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
    this browser that contact (``merged``): its closed conversations move
    there, and its open one too unless the contact has one of its own. An
    unverified call never touches a verified contact.
    """
    me = _visitor(conn, visitor_id)
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
            _move_conversations(conn, me.id, target.id)
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
    return Identified(target, merged)


def _move_conversations(conn: Connection, source: str, target: str) -> None:
    has_active = conn.execute(
        select(conversations.c.id)
        .where(conversations.c.visitor_id == target, conversations.c.status != "closed")
        .limit(1)
    ).first()
    query = update(conversations).where(conversations.c.visitor_id == source)
    if has_active is not None:
        query = query.where(conversations.c.status == "closed")
    conn.execute(query.values(visitor_id=target))


def visitor_public(visitor: Visitor) -> dict[str, Any]:
    return {
        "id": visitor.id,
        "name": visitor.name,
        "email": visitor.email,
        "user_id": visitor.user_id,
        "verified": visitor.verified,
        "phone": visitor.phone,
    }


def visitor_profile(conn: Connection, visitor_id: str, *, recent: int = 20) -> dict[str, Any]:
    """What an agent sees about a visitor: identity, attributes, recent pages and events."""
    visitor = _visitor(conn, visitor_id)
    pages = conn.execute(
        select(page_views.c.url, page_views.c.title, page_views.c.referrer, page_views.c.at)
        .where(page_views.c.visitor_id == visitor_id)
        .order_by(page_views.c.at.desc())
        .limit(recent)
    ).mappings()
    events = conn.execute(
        select(tracked_events.c.name, tracked_events.c.props, tracked_events.c.at)
        .where(tracked_events.c.visitor_id == visitor_id)
        .order_by(tracked_events.c.at.desc())
        .limit(recent)
    ).mappings()
    return {
        **visitor_public(visitor),
        "site_id": visitor.site_id,
        "attributes": visitor.attributes,
        "locale": visitor.locale,
        "timezone": visitor.timezone,
        "visit_count": visitor.visit_count,
        "created_at": iso(visitor.created_at),
        "last_seen_at": iso(visitor.last_seen_at),
        "page_views": [{**dict(p), "at": iso(p["at"])} for p in pages],
        "events": [{**dict(e), "at": iso(e["at"])} for e in events],
    }
