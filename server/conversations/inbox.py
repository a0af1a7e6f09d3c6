"""The agents' inbox: conversations by view and status, newest first, and search.

Search goes through ``visitor_terms``, one row per searchable piece of a
visitor, so every kind of search is a range scan on the primary key:

- ``n:WORD`` for each word of the name: names match by word prefix;
- ``e:SUFFIX`` for each suffix of the email: a prefix of a suffix is a substring;
- ``p:SUFFIX`` for each suffix of the phone's digits: "+351 912-345" is found by "912345".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, false, insert, or_, select

from server.conversations.frames import conversation_summary
from server.conversations.models import Conversation
from server.errors import InvalidInput
from server.tracking.models import Visitor, VisitorTerm

conversations = Conversation.__table__  # type: ignore[attr-defined]
visitors = Visitor.__table__  # type: ignore[attr-defined]
terms = VisitorTerm.__table__  # type: ignore[attr-defined]

VIEWS = ("mine", "unassigned", "all")
STATUSES = ("open", "snoozed", "closed")
_HIGH = "\U0010ffff"
LIST_LIMIT = 2000  # up to this many matching visitors, search starts from them


def terms_of(name: str | None, email: str | None, phone: str | None) -> set[str]:
    found = {"n:" + w for w in re.findall(r"\w+", (name or "").casefold())}
    mail = (email or "").casefold()
    found |= {"e:" + mail[i:][:118] for i in range(len(mail))}
    digits = re.sub(r"\D", "", phone or "")
    found |= {"p:" + digits[i:] for i in range(len(digits))}
    return found


def index_visitor(
    conn: Connection, visitor_id: str, name: str | None, email: str | None, phone: str | None
) -> None:
    """Replace a visitor's search terms (after their name, email or phone changed)."""
    conn.execute(delete(terms).where(terms.c.visitor_id == visitor_id))
    rows = [{"term": t, "visitor_id": visitor_id} for t in terms_of(name, email, phone)]
    if rows:
        conn.execute(insert(terms), rows)


def _matching(conn: Connection, query: str) -> Any | None:
    """A condition on conversations.visitor_id: the visitors whose name (every word
    starts a word of it), email (substring) or phone (digits) match; None: no search.

    A selective search (an email, a phone, a rare name) becomes a list of
    visitors, so the database starts from them; a broad one (a common first
    name) stays a subquery, and the newest conversations satisfy it at once.
    """
    query = query.strip().casefold()
    if not query:
        return None
    prefixes: list[list[str]] = []  # each entry: prefixes that must all match (name words), or one
    words = re.findall(r"\w+", query)
    if words:
        prefixes.append(["n:" + w for w in words])
    prefixes.append(["e:" + query])
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3 and len(digits) * 2 >= len(re.sub(r"\s", "", query)):
        prefixes.append(["p:" + digits])

    def range_of(prefix: str) -> Any:
        return and_(terms.c.term >= prefix, terms.c.term < prefix + _HIGH)

    found: set[str] = set()
    for group in prefixes:
        members: set[str] | None = None
        for prefix in group:
            rows = conn.execute(
                select(terms.c.visitor_id).where(range_of(prefix)).limit(LIST_LIMIT + 1)
            ).all()
            if len(rows) > LIST_LIMIT:  # broad: let the database filter as it walks the newest first
                return or_(
                    *(
                        and_(
                            *(
                                conversations.c.visitor_id.in_(select(terms.c.visitor_id).where(range_of(p)))
                                for p in g
                            )
                        )
                        for g in prefixes
                    )
                )
            ids = {r[0] for r in rows}
            members = ids if members is None else members & ids
        found |= members or set()
    return conversations.c.visitor_id.in_(sorted(found)) if found else false()


def page(
    conn: Connection,
    *,
    view: str,
    status: str,
    user_id: str,
    query: str = "",
    limit: int = 50,
    before: datetime | None = None,
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
    matching = _matching(conn, query)
    if matching is not None:
        where.append(matching)
    if before is not None:
        where.append(c.c.last_activity_at < before)
    rows = conn.execute(
        select(c, visitors.c.name, visitors.c.email, visitors.c.phone)
        .join(visitors, visitors.c.id == c.c.visitor_id)
        .where(and_(*where))
        .order_by(c.c.last_activity_at.desc())
        .limit(limit + 1)
    ).mappings()
    found = []
    for row in rows:
        data = dict(row)
        item = conversation_summary(data)
        item["visitor"] = {
            "id": data["visitor_id"],
            "name": data["name"],
            "email": data["email"],
            "phone": data["phone"],
        }
        item["unread"] = data["agent_read_seq"] < data["last_visitor_seq"]  # blue
        item["unanswered"] = data["last_visitor_seq"] > data["last_agent_seq"]  # grey once read
        found.append(item)
    more = len(found) > limit
    found = found[:limit]
    return {
        "conversations": found,
        "has_more": more,
        "next_before": found[-1]["last_activity_at"] if more and found else None,
    }


def badge(conn: Connection, user_id: str) -> dict[str, int]:
    """What the side menu's red badge and the tab title count: open conversations new or unanswered."""
    c = conversations
    mine_or_free = (c.c.assignee_id == user_id) | c.c.assignee_id.is_(None)
    rows = conn.execute(
        select(c.c.agent_read_seq, c.c.last_visitor_seq, c.c.last_agent_seq).where(
            c.c.status == "open", mine_or_free, c.c.last_visitor_seq > c.c.last_agent_seq
        )
    ).all()
    return {
        "unread": sum(1 for r in rows if r[0] < r[1]),
        "unanswered": len(rows),
    }
