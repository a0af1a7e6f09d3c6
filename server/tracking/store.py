"""Visitors and visits: who is this, and is this a new visit?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from server.ids import utcnow
from server.tracking.models import Visit, Visitor

visitors = Visitor.__table__  # type: ignore[attr-defined]
visits = Visit.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Arrival:
    """What a hello tells about the visitor and the page."""

    locale: str | None = None
    timezone: str | None = None
    client_kind: str = "web"
    page_url: str | None = None
    referrer: str | None = None
    user_agent: str | None = None


def resolve_visitor(
    conn: Connection,
    *,
    site_id: str,
    visitor_id: str | None,
    arrival: Arrival,
    visit_timeout_s: int,
) -> tuple[Visitor, bool]:
    """The visitor behind a hello, created when unknown; returns (visitor, is_new).

    A signed token whose visitor no longer exists (erased, or a fresh
    database) gets a new identity rather than an error: the token was ours.
    """
    now = utcnow()
    row = None
    if visitor_id is not None:
        row = (
            conn.execute(select(visitors).where(visitors.c.id == visitor_id, visitors.c.site_id == site_id))
            .mappings()
            .first()
        )
    if row is None:
        visitor = Visitor(
            site_id=site_id,
            locale=arrival.locale,
            timezone=arrival.timezone,
            client_kind=arrival.client_kind,
            visit_count=1,
            created_at=now,
            last_seen_at=now,
        )
        conn.execute(insert(visitors).values(visitor.model_dump()))
        _start_visit(conn, visitor, arrival, now)
        return visitor, True

    visitor = Visitor.model_validate(dict(row))
    last = (
        conn.execute(
            select(visits.c.id, visits.c.last_activity_at)
            .where(visits.c.visitor_id == visitor.id)
            .order_by(visits.c.last_activity_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    changes: dict[str, object] = {"last_seen_at": now}
    if arrival.locale:
        changes["locale"] = arrival.locale
    if arrival.timezone:
        changes["timezone"] = arrival.timezone
    if last is None or now - last["last_activity_at"] > timedelta(seconds=visit_timeout_s):
        changes["visit_count"] = visitor.visit_count + 1
        _start_visit(conn, visitor, arrival, now)
    else:
        conn.execute(update(visits).where(visits.c.id == last["id"]).values(last_activity_at=now))
    conn.execute(update(visitors).where(visitors.c.id == visitor.id).values(**changes))
    return visitor.model_copy(update=changes), False


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def _start_visit(conn: Connection, visitor: Visitor, arrival: Arrival, now: datetime) -> None:
    visit = Visit(
        visitor_id=visitor.id,
        site_id=visitor.site_id,
        started_at=now,
        last_activity_at=now,
        landing_url=_clip(arrival.page_url, 2048),
        referrer=_clip(arrival.referrer, 2048),
        user_agent=_clip(arrival.user_agent, 512),
    )
    conn.execute(insert(visits).values(visit.model_dump()))
