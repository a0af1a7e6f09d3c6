"""What the widget and SDKs report about a visitor: pages and events.

Each function runs inside one write transaction (``Database.write``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.contacts import store as contacts
from server.ids import iso, utcnow
from server.tracking.models import PageView, TrackedEvent
from server.tracking.store import visits

page_views = PageView.__table__  # type: ignore[attr-defined]
tracked_events = TrackedEvent.__table__  # type: ignore[attr-defined]


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


def visitor_profile(conn: Connection, visitor_id: str, *, recent: int = 20) -> dict[str, Any]:
    """What an agent sees about a visitor: who they are, and their recent pages and events."""
    who = contacts.profile(conn, visitor_id)
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
        **who,
        "page_views": [{**dict(p), "at": iso(p["at"])} for p in pages],
        "events": [{**dict(e), "at": iso(e["at"])} for e in events],
    }


def latest_visit(conn: Connection, visitor_id: str) -> dict[str, Any] | None:
    """The device, browser, landing page and campaign of the visitor's latest visit."""
    row = (
        conn.execute(
            select(visits.c.device, visits.c.browser, visits.c.os, visits.c.landing_url, visits.c.utm)
            .where(visits.c.visitor_id == visitor_id)
            .order_by(visits.c.started_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def pages_seen(conn: Connection, visitor_id: str) -> int:
    return int(conn.execute(select(func.count()).where(page_views.c.visitor_id == visitor_id)).scalar_one())


def page_at(conn: Connection, visitor_id: str, moment: datetime) -> dict[str, Any] | None:
    """The last page the visitor opened at or before ``moment``."""
    row = (
        conn.execute(
            select(page_views.c.url, page_views.c.title)
            .where(page_views.c.visitor_id == visitor_id, page_views.c.at <= moment)
            .order_by(page_views.c.at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
