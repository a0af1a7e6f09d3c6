"""Visits: which contact is this hello, and is this a new visit?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from user_agents import parse as parse_user_agent

from server.contacts import refs
from server.contacts.models import Visitor
from server.ids import utcnow
from server.tracking.models import Visit

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
) -> tuple[Visitor, bool, Visit]:
    """The visitor behind a hello, created when unknown; returns (visitor, is_new, their visit).

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
        visit, came = _start_visit(conn, visitor, arrival, now)
        return visitor.model_copy(update=came), True, visit

    visitor = Visitor.model_validate(dict(row))
    last = (
        conn.execute(
            select(visits)
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
        visit, came = _start_visit(conn, visitor, arrival, now)
        visitor = visitor.model_copy(update=came)
    else:
        conn.execute(update(visits).where(visits.c.id == last["id"]).values(last_activity_at=now))
        visit = Visit.model_validate({**last, "last_activity_at": now})
    conn.execute(update(visitors).where(visitors.c.id == visitor.id).values(**changes))
    return visitor.model_copy(update=changes), False, visit


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def current_visit(conn: Connection, visitor_id: str) -> Visit:
    row = (
        conn.execute(
            select(visits)
            .where(visits.c.visitor_id == visitor_id)
            .order_by(visits.c.last_activity_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    assert row is not None, "every visitor has a visit"
    return Visit.model_validate(dict(row))


def device_of(user_agent: str | None) -> dict[str, str | None]:
    """Device type, browser and operating system, read by the user-agents library."""
    if not user_agent:
        return {"device": None, "browser": None, "os": None}
    agent = parse_user_agent(user_agent)
    if agent.is_bot:
        device = "bot"
    elif agent.is_tablet:
        device = "tablet"
    elif agent.is_mobile:
        device = "mobile"
    else:
        device = "desktop"
    return {"device": device, "browser": agent.browser.family[:50], "os": agent.os.family[:50]}


def _start_visit(
    conn: Connection, visitor: Visitor, arrival: Arrival, now: datetime
) -> tuple[Visit, dict[str, Any]]:
    """The new visit, and what it changed on the visitor (its link references)."""
    seen = device_of(arrival.user_agent)
    visit = Visit(
        device=seen["device"],
        browser=seen["browser"],
        os=seen["os"],
        utm=refs.utm_of(arrival.page_url),
        visitor_id=visitor.id,
        site_id=visitor.site_id,
        started_at=now,
        last_activity_at=now,
        landing_url=_clip(arrival.page_url, 2048),
        referrer=_clip(arrival.referrer, 2048),
        user_agent=_clip(arrival.user_agent, 512),
    )
    conn.execute(insert(visits).values(visit.model_dump()))
    reference = refs.of_link(arrival.page_url, now)
    if reference is None:
        return visit, {}
    refs.record(conn, visitor.id, reference)  # where this visit came from
    return visit, {"latest_ref": reference, "first_ref": visitor.first_ref or reference}
