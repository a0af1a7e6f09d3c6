"""A contact's data protection rights: everything stored about them, downloaded; and
erasure, which leaves nothing personal behind.

Erasing deletes the contact's messages, attachments, conversation events, bot runs,
visits, page views, custom events, search terms, history and rejected import rows
naming them; it keeps the rows counters need (conversations, proactive deliveries, the
visitor row itself) with every personal field emptied. Each erasure is recorded in
``erasures`` with who did it and how much went, and nothing about the person.
"""

from __future__ import annotations

import codecs
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlmodel import JSON, Column, Field, SQLModel

from server.bots.models import BotRun
from server.contacts import book, imports
from server.contacts.search import forget as forget_search
from server.contacts.store import visitor, visitors
from server.conversations.models import Attachment, AttachmentBlob, Conversation, ConversationEvent, Message
from server.db import Database
from server.ids import iso, new_id, utcnow
from server.proactive.models import ProactiveDelivery
from server.tracking.models import PageView, TrackedEvent, Visit


class Erasure(SQLModel, table=True):
    """That a contact was erased, by whom and how much went; nothing about the person."""

    __tablename__ = "erasures"

    id: str = Field(default_factory=lambda: new_id("era"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    erased_by: str = Field(max_length=40)
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)


erasures = Erasure.__table__  # type: ignore[attr-defined]
conversations = Conversation.__table__  # type: ignore[attr-defined]
messages = Message.__table__  # type: ignore[attr-defined]
events = ConversationEvent.__table__  # type: ignore[attr-defined]
attachments = Attachment.__table__  # type: ignore[attr-defined]
blobs = AttachmentBlob.__table__  # type: ignore[attr-defined]
runs = BotRun.__table__  # type: ignore[attr-defined]
deliveries = ProactiveDelivery.__table__  # type: ignore[attr-defined]
visits = Visit.__table__  # type: ignore[attr-defined]
page_views = PageView.__table__  # type: ignore[attr-defined]
tracked = TrackedEvent.__table__  # type: ignore[attr-defined]


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [
        {k: iso(v) if isinstance(v, datetime) else v for k, v in r.items()}
        for r in conn.execute(query).mappings()
    ]


def export(conn: Connection, visitor_id: str) -> dict[str, Any]:
    """Everything stored about the contact, as JSON."""
    contact = visitor(conn, visitor_id)
    mine = select(conversations.c.id).where(conversations.c.visitor_id == visitor_id)
    said = _rows(
        conn, select(messages).where(messages.c.conversation_id.in_(mine)).order_by(messages.c.created_at)
    )
    files = _rows(
        conn,
        select(attachments.c.id, attachments.c.name, attachments.c.content_type, attachments.c.size,
               attachments.c.message_id, attachments.c.created_at)
        .where(attachments.c.message_id.in_(select(messages.c.id).where(messages.c.conversation_id.in_(mine)))),
    )  # fmt: skip
    return {
        "exported_at": iso(utcnow()),
        "contact": {k: iso(v) if isinstance(v, datetime) else v for k, v in contact.model_dump().items()},
        "conversations": [
            {**c, "messages": [m for m in said if m["conversation_id"] == c["id"]]}
            for c in _rows(conn, select(conversations).where(conversations.c.visitor_id == visitor_id))
        ],
        "attachments": files,
        "visits": _rows(conn, select(visits).where(visits.c.visitor_id == visitor_id)),
        "page_views": _rows(conn, select(page_views).where(page_views.c.visitor_id == visitor_id)),
        "events": _rows(conn, select(tracked).where(tracked.c.visitor_id == visitor_id)),
        "proactive_deliveries": _rows(conn, select(deliveries).where(deliveries.c.visitor_id == visitor_id)),
        "history": book.history(conn, visitor_id, limit=10_000),
    }


def erase(conn: Connection, visitor_id: str, *, by_user: str) -> dict[str, int]:
    """Erase the contact (one transaction); returns how much went."""
    contact = visitor(conn, visitor_id)
    mine = [
        r[0] for r in conn.execute(select(conversations.c.id).where(conversations.c.visitor_id == visitor_id))
    ]
    said = select(messages.c.id).where(messages.c.conversation_id.in_(mine))
    files = [r[0] for r in conn.execute(
        select(attachments.c.id).where(
            attachments.c.message_id.in_(said)
            | ((attachments.c.uploader_type == "visitor") & (attachments.c.uploader_id == visitor_id))
        )
    )]  # fmt: skip
    counts = {
        "attachments": len(files),
        "events": conn.execute(delete(events).where(events.c.conversation_id.in_(mine))).rowcount,
    }
    conn.execute(delete(blobs).where(blobs.c.id.in_(files)))
    conn.execute(delete(attachments).where(attachments.c.id.in_(files)))
    counts["messages"] = conn.execute(delete(messages).where(messages.c.conversation_id.in_(mine))).rowcount
    conn.execute(delete(runs).where(runs.c.conversation_id.in_(mine)))
    conn.execute(update(conversations).where(conversations.c.id.in_(mine)).values(last_preview="", tags=[]))
    counts["conversations"] = len(mine)
    counts["visits"] = conn.execute(delete(visits).where(visits.c.visitor_id == visitor_id)).rowcount
    counts["page_views"] = conn.execute(
        delete(page_views).where(page_views.c.visitor_id == visitor_id)
    ).rowcount
    conn.execute(delete(tracked).where(tracked.c.visitor_id == visitor_id))
    forget_search(conn, visitor_id)
    conn.execute(delete(book.changes).where(book.changes.c.visitor_id == visitor_id))
    counts["import_rows"] = _forget_in_imports(
        conn, contact.site_id, [contact.email, contact.phone, contact.name]
    )
    conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor_id)
        .values(
            **dict.fromkeys(("name", "email", "phone", "phone_digits", "user_id", "locale", "timezone")),
            **{"verified": False, "attributes": {}, "tags": [], "listed_at": None, "added_by": None},
        )
    )
    conn.execute(insert(erasures).values(id=new_id("era"), site_id=contact.site_id, erased_by=by_user,
                                         counts=counts, at=utcnow()))  # fmt: skip
    return counts


def _forget_in_imports(conn: Connection, site_id: str, values: list[str | None]) -> int:
    """Rejected rows naming the contact go; so do the files of imports that hold them (a
    finished import's file is gone already)."""
    wanted = [v for v in values if v and len(v) > 3]
    if not wanted:
        return 0
    gone = 0
    for imp in conn.execute(select(imports.imports).where(imports.imports.c.site_id == site_id)).mappings():
        for row in conn.execute(
            select(imports.rejects).where(imports.rejects.c.import_id == imp["id"])
        ).mappings():
            text = json.dumps(row["cells"], ensure_ascii=False).casefold()
            if any(v.casefold() in text for v in wanted):
                conn.execute(
                    delete(imports.rejects).where(
                        imports.rejects.c.import_id == imp["id"], imports.rejects.c.row == row["row"]
                    )
                )
                gone += 1
        if imp["status"] not in ("queued", "running") and _file_names(conn, imp, wanted):
            conn.execute(delete(imports.chunks).where(imports.chunks.c.import_id == imp["id"]))
            gone_file = "its file was deleted: it named an erased contact"
            conn.execute(
                update(imports.imports)
                .where(imports.imports.c.id == imp["id"])
                .values(status="failed", error=gone_file)
            )
    return gone


def _file_names(conn: Connection, imp: Any, wanted: list[str]) -> bool:
    decoder = codecs.getincrementaldecoder(imp["encoding"] or "utf-8")(errors="replace")
    n, tail = 0, ""
    while (data := imports.chunk_of(conn, imp["id"], n)) is not None:
        text = tail + decoder.decode(data)
        if any(v.casefold() in text.casefold() for v in wanted):
            return True
        tail, n = text[-300:], n + 1
    return False


async def erase_contact(db: Database, visitor_id: str, *, by_user: str) -> dict[str, int]:
    """Erase the contact, committed."""
    return await db.write(lambda c: erase(c, visitor_id, by_user=by_user))
