"""The agents' inbox: conversations by view and status, newest first, and search.

Search goes through ``visitor_terms``, one row per searchable piece of a
visitor, so every kind of search is a range scan on the primary key:

- ``n:WORD`` for each word of the name: names match by word prefix;
- ``e:SUFFIX`` for each suffix of the email: a prefix of a suffix is a substring;
- ``p:SUFFIX`` for each suffix of the phone's digits: "+351 912-345" is found by "912345".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, literal, or_, select

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
WALK_ABOVE = 1000  # more candidates than this: walk the newest conversations instead


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


@dataclass
class Matches:
    """Visitors a search found: ``sure`` match; ``named`` still need their name's
    words checked against ``words`` (a word too common to list was skipped)."""

    sure: set[str]
    named: set[str]
    words: list[str]

    def keeps(self, row: Any) -> bool:
        if row["visitor_id"] in self.sure:
            return True
        if row["visitor_id"] not in self.named:
            return False
        have = re.findall(r"\w+", (row["name"] or "").casefold())
        return all(any(h.startswith(w) for h in have) for w in self.words)


def _matching(conn: Connection, query: str) -> Matches | Any | None:
    """The visitors whose name (every word starts a word of it), email (substring)
    or phone (digits) match; None: no search.

    A selective search (an email, a phone, a rare name) becomes a list of
    visitors, so the database starts from them; a broad one (one common letter)
    stays a condition, and the newest conversations satisfy it at once.
    """
    query = query.strip().casefold()
    if not query:
        return None
    words = re.findall(r"\w+", query)
    digits = re.sub(r"\D", "", query)
    by_phone = len(digits) >= 3 and re.fullmatch(r"[\d\s+().\-/]+", query) is not None

    def range_of(prefix: str) -> Any:
        return and_(terms.c.term >= prefix, terms.c.term < prefix + _HIGH)

    def listed(prefix: str) -> set[str] | None:
        rows = conn.execute(select(terms.c.visitor_id).where(range_of(prefix)).limit(WALK_ABOVE + 1)).all()
        return None if len(rows) > WALK_ABOVE else {r[0] for r in rows}

    def condition() -> Any:
        groups = [and_(*(_in(range_of("n:" + w)) for w in words))] if words else []
        groups.append(_in(range_of("e:" + query)))
        if by_phone:
            groups.append(_in(range_of("p:" + digits)))
        return or_(*groups)

    sure: set[str] = set()
    for prefix in ["e:" + query] + (["p:" + digits] if by_phone else []):
        ids = listed(prefix)
        if ids is None:
            return condition()
        sure |= ids
    named: set[str] = set()
    if words:
        # Visitors with every word, counted in the database: two common words
        # ("joao k") are often a rare pair.
        found: set[str] | None
        if len(words) > 1:
            # Start from the longest word's visitors (the likeliest to be few) and
            # probe each of them for the other words.
            driver = max(words, key=len)
            query_ = select(terms.c.visitor_id).where(range_of("n:" + driver))
            for word in words:
                if word is not driver:
                    other = terms.alias()
                    query_ = query_.where(
                        select(literal(1))
                        .where(other.c.visitor_id == terms.c.visitor_id, other.c.term >= "n:" + word)
                        .where(other.c.term < "n:" + word + _HIGH)
                        .offset(0)
                        .exists()
                    )
            found = {r[0] for r in conn.execute(query_.limit(WALK_ABOVE + 1))}
        else:
            found = listed("n:" + words[0])
        if found is None or len(found) > WALK_ABOVE:
            # Common words: walking the newest conversations finds matches sooner
            # than fetching thousands of visitors' conversations to sort them.
            return condition()
        named = found
    if len(sure) + len(named) > WALK_ABOVE:
        return condition()
    return Matches(sure, named, words)


def _in(term_range: Any) -> Any:
    """The conversation's visitor has a term in the range: correlated, so the walk probes
    (visitor_id, term) once per conversation it passes instead of first collecting every
    matching visitor (a broad search matches most of them)."""
    # OFFSET 0 keeps PostgreSQL from turning the probe into a hashed subplan, which
    # would read every term in the range first (100,000 rows for "exampl": 300 ms).
    return (
        select(literal(1))
        .where(terms.c.visitor_id == conversations.c.visitor_id, term_range)
        .offset(0)
        .exists()
    )


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
    columns = select(c, visitors.c.name, visitors.c.email, visitors.c.phone).join(
        visitors, visitors.c.id == c.c.visitor_id
    )
    matching = _matching(conn, query)
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
