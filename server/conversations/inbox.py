"""The agents' inbox: conversations by view and status, newest first, and search
(by the contact's name, email or phone: server/contacts/search.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from server.contacts import search
from server.contacts.models import Visitor
from server.contacts.search import Matches
from server.conversations.frames import conversation_summary
from server.conversations.models import Conversation
from server.errors import InvalidInput

conversations = Conversation.__table__  # type: ignore[attr-defined]
visitors = Visitor.__table__  # type: ignore[attr-defined]

VIEWS = ("mine", "unassigned", "all")
STATUSES = ("open", "snoozed", "closed")


def page(
    conn: Connection,
    *,
    view: str,
    status: str,
    user_id: str,
    query: str = "",
    limit: int = 50,
    before: datetime | None = None,
    channels: frozenset[str] | None = None,
) -> dict[str, Any]:
    if view not in VIEWS:
        raise InvalidInput(f"view={view!r}: use {', '.join(VIEWS)}", code="invalid_parameter")
    if status not in STATUSES:
        raise InvalidInput(f"status={status!r}: use {', '.join(STATUSES)}", code="invalid_parameter")
    c = conversations
    where = [c.c.status == status]
    if view == "mine":
        where.append(c.c.assignee_id == user_id)
    elif view == "unassigned":
        where.append(c.c.assignee_id.is_(None))
    if before is not None:
        where.append(c.c.last_activity_at < before)
    if channels is not None:
        where.append(c.c.channel_id.in_(sorted(channels)))
    columns = select(c, visitors.c.name, visitors.c.email, visitors.c.phone, visitors.c.timezone).join(
        visitors, visitors.c.id == c.c.visitor_id
    )
    matching = search.matching(conn, query, c.c.visitor_id)
    if isinstance(matching, Matches):
        # Few visitors: start from them (by their index) and order here; left to
        # the planner, the newest-first index looked tempting and cost 200 ms.
        ids = sorted(matching.sure | matching.named)
        picked = [
            dict(r)
            for r in conn.execute(columns.where(c.c.visitor_id.in_(ids))).mappings()
            if _keeps(r, view, status, user_id, before)
            and matching.keeps(r)
            and (channels is None or r["channel_id"] in channels)
        ]
        picked.sort(key=lambda r: r["last_activity_at"], reverse=True)
        rows: Any = picked[: limit + 1]
    else:
        if matching is not None:
            where.append(matching)
        # The walk reads only the index (status or assignee, time, visitor);
        # the rows it picked are read afterwards.
        ids = [
            r[0]
            for r in conn.execute(
                select(c.c.id).where(and_(*where)).order_by(c.c.last_activity_at.desc()).limit(limit + 1)
            ).all()
        ]
        rows = sorted(
            (dict(r) for r in conn.execute(columns.where(c.c.id.in_(ids))).mappings()),
            key=lambda r: r["last_activity_at"],
            reverse=True,
        )
    found = []
    for row in rows:
        data = dict(row)
        item = conversation_summary(data)
        item["visitor"] = {
            "id": data["visitor_id"],
            "name": data["name"],
            "email": data["email"],
            "phone": data["phone"],
            "timezone": data["timezone"],
        }
        # While a bot answers, the conversation waits for no one.
        waiting = not data.get("bot_active")
        item["unread"] = waiting and data["agent_read_seq"] < data["last_visitor_seq"]  # blue
        item["unanswered"] = waiting and data["last_visitor_seq"] > data["last_agent_seq"]  # grey once read
        found.append(item)
    more = len(found) > limit
    found = found[:limit]
    return {
        "conversations": found,
        "has_more": more,
        "next_before": found[-1]["last_activity_at"] if more and found else None,
    }


def _keeps(row: Any, view: str, status: str, user_id: str, before: datetime | None) -> bool:
    if row["status"] != status or (before is not None and row["last_activity_at"] >= before):
        return False
    if view == "mine":
        return bool(row["assignee_id"] == user_id)
    return view == "all" or row["assignee_id"] is None


def badge(conn: Connection, user_id: str, channels: frozenset[str] | None = None) -> dict[str, int]:
    """What the side menu's red badge and the tab title count: open conversations new or unanswered."""
    c = conversations
    mine_or_free = (c.c.assignee_id == user_id) | c.c.assignee_id.is_(None)
    where = [
        c.c.status == "open",
        mine_or_free,
        c.c.last_visitor_seq > c.c.last_agent_seq,
        c.c.bot_active.is_(False),
    ]
    if channels is not None:
        where.append(c.c.channel_id.in_(sorted(channels)))
    rows = conn.execute(
        select(c.c.agent_read_seq, c.c.last_visitor_seq, c.c.last_agent_seq).where(*where)
    ).all()
    return {
        "unread": sum(1 for r in rows if r[0] < r[1]),
        "unanswered": len(rows),
    }
