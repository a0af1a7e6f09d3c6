"""What the widget reports, committed: a hello's arrival, page views, events.

Nothing here is published: reports change no conversation, and proactive
rules read them in the process that received them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from server.contacts.models import Visitor
from server.db import Database
from server.tracking import reports
from server.tracking.models import Visit
from server.tracking.store import Arrival, resolve_visitor


async def arrive(
    db: Database,
    *,
    site_id: str,
    visitor_id: str | None,
    arrival: Arrival,
    visit_timeout_s: int,
    page: Any = None,
) -> tuple[Visitor, bool, Visit]:
    """The visitor behind a hello (created when unknown), their visit, and the page
    they are on, in one transaction; returns (visitor, is_new, visit)."""

    def step(conn: Connection) -> tuple[Visitor, bool, Visit]:
        visitor, is_new, visit = resolve_visitor(
            conn, site_id=site_id, visitor_id=visitor_id, arrival=arrival, visit_timeout_s=visit_timeout_s
        )
        if page is not None:
            reports.record_page_view(
                conn,
                visitor_id=visitor.id,
                site_id=site_id,
                url=page.url,
                title=page.title,
                referrer=page.referrer,
                page_id=page.id,
            )
        return visitor, is_new, visit

    return await db.write(step)


async def page_view(db: Database, *, visitor_id: str, site_id: str, page: Any) -> None:
    await db.write(
        lambda c: reports.record_page_view(
            c,
            visitor_id=visitor_id,
            site_id=site_id,
            url=page.url,
            title=page.title,
            referrer=page.referrer,
            page_id=page.id,
        )
    )


async def event(db: Database, *, visitor_id: str, site_id: str, name: str, props: dict[str, Any]) -> None:
    await db.write(
        lambda c: reports.record_event(c, visitor_id=visitor_id, site_id=site_id, name=name, props=props)
    )
