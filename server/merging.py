"""Two contacts who are one person, merged into one with a choice field by field.

The kept contact (the target) takes, for each of name, email, phone and user id, the
value the person merging chose (its own by default; the other's when it has none), every
tag of both, and the attributes of both (its own winning unless the other's are chosen).
The other contact's conversations move over through the conversations' own step (each
gets a ``conversation.updated`` naming its new visitor, so open sockets learn of it),
and so do its visits, page views, custom events, proactive deliveries, uploads and
history; then it is deleted, and the kept contact's history says who merged whom.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, select, update

from server.contacts import book
from server.contacts import store as contacts_store
from server.contacts.book import Actor
from server.contacts.models import Visitor
from server.contacts.search import forget, index_visitor
from server.contacts.store import Identified, visitor, visitors
from server.conversations import actions
from server.conversations.events import Change
from server.conversations.merge import move_conversations
from server.conversations.models import Attachment, Conversation
from server.db import Database
from server.errors import Conflict, InvalidInput, NotFound
from server.proactive.models import ProactiveDelivery
from server.realtime.bus import Bus
from server.tracking.models import PageView, TrackedEvent, Visit

FIELDS = ("name", "email", "phone", "user_id", "attributes")
conversations = Conversation.__table__  # type: ignore[attr-defined]
MOVED = [
    (Visit.__table__.c.visitor_id, Visit.__table__),  # type: ignore[attr-defined]
    (PageView.__table__.c.visitor_id, PageView.__table__),  # type: ignore[attr-defined]
    (TrackedEvent.__table__.c.visitor_id, TrackedEvent.__table__),  # type: ignore[attr-defined]
    (ProactiveDelivery.__table__.c.visitor_id, ProactiveDelivery.__table__),  # type: ignore[attr-defined]
    (book.changes.c.visitor_id, book.changes),
]
uploads = Attachment.__table__  # type: ignore[attr-defined]


def check_keep(raw: Any) -> dict[str, str]:
    """``{"name": "source" | "target", …}``: whose value each field keeps."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - set(FIELDS) or set(raw.values()) - {"source", "target"}:
        raise InvalidInput(
            f'keep: for any of {", ".join(FIELDS)}, "source" or "target"', code="invalid_merge", field="keep"
        )
    return dict(raw)


def merge(conn: Connection, *, site_id: str, source_id: str, target_id: str, keep: dict[str, str],
          by: Actor) -> tuple[Visitor, list[Change]]:  # fmt: skip
    """Merge the source contact into the target, in one transaction."""
    if source_id == target_id:
        raise InvalidInput("a contact cannot be merged with itself", code="invalid_merge", field="from")
    source, target = visitor(conn, source_id), visitor(conn, target_id)
    if source.site_id != site_id or target.site_id != site_id:
        raise NotFound("both contacts must be of the same site", code="visitor_not_found")
    if _has_open(conn, source.id) and _has_open(conn, target.id):
        raise Conflict(
            "both contacts have an open conversation: close one of them first", code="merge_both_open"
        )
    values, moved = _absorb(conn, source, target, keep)
    forget(conn, source.id)
    # The source's unique verified user id must leave before the target takes it.
    conn.execute(delete(visitors).where(visitors.c.id == source.id))
    return _kept(conn, source, target, values, by), moved


def _absorb(
    conn: Connection, source: Visitor, target: Visitor, keep: dict[str, str]
) -> tuple[dict[str, Any], list[Change]]:
    """The target's values after the merge, and the moves: the source's conversations
    (through the conversations' own step), visits, page views, events, deliveries,
    history and uploads, all to the target."""
    values: dict[str, Any] = {}
    for name in ("name", "email", "phone", "user_id"):
        first, other = (source, target) if keep.get(name) == "source" else (target, source)
        values[name] = getattr(first, name) or getattr(other, name)
    values["verified"] = (
        source if values["user_id"] == source.user_id and source.user_id else target
    ).verified
    values["phone_digits"] = re.sub(r"\D", "", values["phone"] or "")[:20] or None
    values["tags"] = list(dict.fromkeys([*target.tags, *source.tags]))[: book.MAX_TAGS]
    values["attributes"] = (
        {**target.attributes, **source.attributes}
        if keep.get("attributes") == "source"
        else {**source.attributes, **target.attributes}
    )
    values["visit_count"] = source.visit_count + target.visit_count
    values["created_at"] = min(source.created_at, target.created_at)
    values["last_seen_at"] = max(source.last_seen_at, target.last_seen_at)
    values["listed_at"] = min((v for v in (source.listed_at, target.listed_at) if v), default=None)
    values["first_ref"] = min(
        (v for v in (source.first_ref, target.first_ref) if v), key=lambda r: r["at"], default=None
    )
    values["latest_ref"] = max(
        (v for v in (source.latest_ref, target.latest_ref) if v), key=lambda r: r["at"], default=None
    )
    moved = move_conversations(conn, source.id, target.id)
    for column, table in MOVED:
        conn.execute(update(table).where(column == source.id).values(visitor_id=target.id))
    conn.execute(
        update(uploads)
        .where(uploads.c.uploader_type == "visitor", uploads.c.uploader_id == source.id)
        .values(uploader_id=target.id)
    )
    return values, moved


def _kept(conn: Connection, source: Visitor, target: Visitor, values: dict[str, Any], by: Actor) -> Visitor:
    """The target with its values after the merge, indexed, and the merge in its history."""
    conn.execute(update(visitors).where(visitors.c.id == target.id).values(**values))
    merged = target.model_copy(update=values)
    index_visitor(conn, merged.id, merged.name, merged.email, merged.phone)
    summary = {"id": source.id, "name": source.name, "email": source.email, "phone": source.phone}
    book.record(conn, target.id, by, "merged", summary, {"id": target.id})
    for name in ("name", "email", "phone", "tags"):
        book.record(conn, target.id, by, name, getattr(target, name), values[name])
    return merged


def identify(conn: Connection, **identity: Any) -> tuple[Identified, list[Change]]:
    """Identify (``contacts.store.identify``); when the browser turns out to be a verified
    contact it is merged into it by the same steps as the page's merge, the contact's
    values winning. The browser's row stays, emptied and off the list, so its other tabs
    (still holding its token) go on as a new browser rather than failing. When both have
    an open conversation only the closed ones move, and the browser keeps its own."""
    result = contacts_store.identify(conn, **identity)
    if not result.merged or result.source is None:
        return result, []
    source, target = visitor(conn, result.source), result.visitor
    if _has_open(conn, source.id) and _has_open(conn, target.id):
        return result, move_conversations(conn, source.id, target.id)
    values, moved = _absorb(conn, source, target, {})
    forget(conn, source.id)
    conn.execute(update(visitors).where(visitors.c.id == source.id).values(**EMPTIED))
    kept = _kept(conn, source, target, values, Actor("visitor", source.id, "Identity"))
    return Identified(kept, True, source.id), moved


EMPTIED: dict[str, Any] = {
    "name": None, "email": None, "phone": None, "phone_digits": None, "user_id": None, "verified": False,
    "tags": [], "attributes": {}, "listed_at": None, "visit_count": 0, "first_ref": None, "latest_ref": None,
}  # fmt: skip


def _has_open(conn: Connection, visitor_id: str) -> bool:
    return (
        conn.execute(
            select(conversations.c.id).where(
                conversations.c.visitor_id == visitor_id, conversations.c.status != "closed"
            )
        ).first()
        is not None
    )


async def identify_visitor(db: Database, bus: Bus, **identity: Any) -> Identified:
    """What the host site (or the visitor) says about who this is, committed; every
    conversation a merge moved is published."""
    return await actions.run(db, bus, lambda conn: identify(conn, **identity))


async def merge_contacts(db: Database, bus: Bus, *, site_id: str, source_id: str, target_id: str,
                         keep: dict[str, str], by: Actor) -> Visitor:  # fmt: skip
    """Merge, commit, then tell the sockets of every conversation that moved."""
    return await actions.run(
        db,
        bus,
        lambda c: merge(c, site_id=site_id, source_id=source_id, target_id=target_id, keep=keep, by=by),
    )
