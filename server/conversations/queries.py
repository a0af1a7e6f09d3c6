"""What is read of conversations: their events as frames, history pages, replay
windows and summaries. Nothing here writes; store.py holds the changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, func, select

from server.channels.models import Channel
from server.conversations.frames import conversation_summary, event_frame
from server.conversations.models import Conversation, ConversationEvent, Message
from server.errors import NotFound

conversations = Conversation.__table__  # type: ignore[attr-defined]
messages = Message.__table__  # type: ignore[attr-defined]
events = ConversationEvent.__table__  # type: ignore[attr-defined]
channels = Channel.__table__  # type: ignore[attr-defined]

_EVENT_COLUMNS = (
    events.c.seq,
    events.c.type,
    events.c.data,
    events.c.created_at,
    messages.c.id,
    messages.c.author_type,
    messages.c.author_id,
    messages.c.client_id,
    messages.c.text,
    messages.c.created_at.label("message_created_at"),
    messages.c.attachments,
    messages.c.buttons,
)


def _frames(conversation_id: str, rows: list[RowMapping]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        message = None
        if row["id"] is not None:
            message = {
                "id": row["id"],
                "author_type": row["author_type"],
                "author_id": row["author_id"],
                "client_id": row["client_id"],
                "text": row["text"],
                "seq": row["seq"],
                "created_at": row["message_created_at"],
                "attachments": row["attachments"] or [],
                "buttons": row["buttons"] or [],
            }
        out.append(
            event_frame(conversation_id, row["seq"], row["type"], row["data"], row["created_at"], message)
        )
    return out


def _events_of(conversation_id: str) -> Select[Any]:
    return (
        select(*_EVENT_COLUMNS)
        .select_from(events.outerjoin(messages, messages.c.id == events.c.message_id))
        .where(events.c.conversation_id == conversation_id)
    )


def events_after(conn: Connection, conversation_id: str, after_seq: int, limit: int) -> list[dict[str, Any]]:
    query = _events_of(conversation_id).where(events.c.seq > after_seq)
    rows = conn.execute(query.order_by(events.c.seq).limit(limit)).mappings().all()
    return _frames(conversation_id, list(rows))


def events_before(
    conn: Connection, conversation_id: str, before_seq: int | None, limit: int
) -> list[dict[str, Any]]:
    query = _events_of(conversation_id)
    if before_seq is not None:
        query = query.where(events.c.seq < before_seq)
    rows = conn.execute(query.order_by(events.c.seq.desc()).limit(limit)).mappings().all()
    return _frames(conversation_id, list(reversed(rows)))


def first_visitor_message_at(conn: Connection, conversation_id: str) -> datetime | None:
    found: datetime | None = conn.execute(
        select(func.min(messages.c.created_at)).where(
            messages.c.conversation_id == conversation_id, messages.c.author_type == "visitor"
        )
    ).scalar()
    return found


def oldest_seq(conn: Connection, conversation_id: str) -> int | None:
    return conn.execute(
        select(func.min(events.c.seq)).where(events.c.conversation_id == conversation_id)
    ).scalar()


def conversation(conn: Connection, conversation_id: str) -> dict[str, Any]:
    """A conversation as clients see it (its summary)."""
    row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
    return conversation_summary(dict(row))


def visitor_conversations(
    conn: Connection, visitor_id: str, *, include_closed: bool = False
) -> list[dict[str, Any]]:
    query = select(conversations).where(conversations.c.visitor_id == visitor_id)
    if not include_closed:
        query = query.where(conversations.c.status != "closed")
    rows = conn.execute(query.order_by(conversations.c.last_activity_at.desc()).limit(50)).mappings().all()
    return [conversation_summary(dict(r)) for r in rows]


def recent_conversations(
    conn: Connection, *, limit: int = 100, status: str | None = "open", channels: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    query = select(conversations)
    if channels is not None:
        query = query.where(conversations.c.channel_id.in_(sorted(channels)))
    if status is not None:
        query = query.where(conversations.c.status == status)
    rows = conn.execute(query.order_by(conversations.c.last_activity_at.desc()).limit(limit)).mappings().all()
    return [conversation_summary(dict(r)) for r in rows]


def replay_window(
    conn: Connection, conversation_id: str, after_seq: int, limit: int, up_to: int | None = None
) -> dict[str, Any] | None:
    """Events after a cursor, or why they cannot be replayed (frames None)."""
    row = conn.execute(
        select(conversations.c.visitor_id, conversations.c.last_seq, conversations.c.channel_id).where(
            conversations.c.id == conversation_id
        )
    ).first()
    if row is None:
        return None
    last = row.last_seq if up_to is None else min(up_to, row.last_seq)
    window: dict[str, Any] = {
        "visitor_id": row.visitor_id,
        "channel_id": row.channel_id,
        "last_seq": row.last_seq,
        "frames": None,
    }
    if after_seq > row.last_seq:
        return window | {"reason": "ahead_of_server"}
    if last - after_seq > limit:
        return window | {"reason": "too_far_behind"}
    oldest = oldest_seq(conn, conversation_id)
    if oldest is not None and oldest > after_seq + 1:
        return window | {"reason": "history_pruned"}
    frames = events_after(conn, conversation_id, after_seq, max(0, last - after_seq))
    return window | {"frames": frames}
