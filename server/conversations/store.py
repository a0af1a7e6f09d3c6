"""Conversations in storage: every change appends sequenced events in one transaction.

The sequence counter lives on the conversation row. Each writer locks that row
first (SELECT … FOR UPDATE on PostgreSQL; SQLite has a single writer), so
sequence numbers are gap-free and a client id is checked while no one else
can insert it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.conversations import statements as sql
from server.conversations.frames import conversation_summary, event_frame
from server.conversations.models import Conversation, ConversationEvent, Message
from server.errors import InvalidInput, NotFound
from server.ids import iso, new_id, utcnow

# A row as the hot-path statements return it.
Row = dict[str, Any]

conversations = Conversation.__table__  # type: ignore[attr-defined]
messages = Message.__table__  # type: ignore[attr-defined]
events = ConversationEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Author:
    type: str  # visitor | agent | system
    id: str | None
    name: str | None = None
    avatar_url: str | None = None


@dataclass
class Change:
    """What one transaction did: the frames to publish after commit."""

    conversation: dict[str, Any]
    frames: list[dict[str, Any]] = field(default_factory=list)
    ack: dict[str, Any] | None = None


class ConversationConflict(InvalidInput):
    code = "conversation_closed"
    http_status = 409


def _locked(conn: Connection, conversation_id: str) -> Row:
    row = sql.LOCK_CONVERSATION.first(conn, {"id": conversation_id})
    if row is None:
        raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
    return row


class _Appender:
    """Appends events to one locked conversation, tracking its counter."""

    def __init__(self, conn: Connection, row: Row) -> None:
        self.conn = conn
        self.state = dict(row)
        self.frames: list[dict[str, Any]] = []
        self.now = utcnow()

    def append(self, type_: str, data: dict[str, Any], message: dict[str, Any] | None = None) -> int:
        self.state["last_seq"] += 1
        seq = self.state["last_seq"]
        if message is not None:
            # What the inbox shows without reading messages: who spoke last, and what.
            side = "last_visitor_seq" if message["author_type"] == "visitor" else "last_agent_seq"
            self.state[side] = seq
            self.state["last_preview"] = message["text"][:140]
            message = {
                **message,
                "seq": seq,
                "conversation_id": self.state["id"],
                "created_at": self.now,
            }
            sql.INSERT_MESSAGE.run(self.conn, message)
        sql.INSERT_EVENT.run(
            self.conn,
            {
                "conversation_id": self.state["id"],
                "seq": seq,
                "type": type_,
                "message_id": message["id"] if message else None,
                "data": data,
                "created_at": self.now,
            },
        )
        self.frames.append(event_frame(self.state["id"], seq, type_, data, self.now, message))
        return seq

    def set(self, **values: Any) -> None:
        self.state.update(values)

    def flush(self) -> dict[str, Any]:
        self.state["last_activity_at"] = self.now
        keys = (
            "status",
            "assignee_id",
            "last_seq",
            "visitor_read_seq",
            "agent_read_seq",
            "last_visitor_seq",
            "last_agent_seq",
            "last_preview",
            "last_activity_at",
            "closed_at",
            "closed_by",
        )
        sql.UPDATE_CONVERSATION.run(self.conn, {k: self.state[k] for k in (*keys, "id")})
        return conversation_summary(self.state)


def _existing_message(conn: Connection, conversation_id: str, client_id: str) -> Row | None:
    return sql.MESSAGE_BY_CLIENT_ID.first(conn, {"conversation_id": conversation_id, "client_id": client_id})


def _visitor_message_by_client_id(conn: Connection, visitor_id: str, client_id: str) -> Row | None:
    return sql.VISITOR_MESSAGE_BY_CLIENT_ID.first(conn, {"visitor_id": visitor_id, "client_id": client_id})


def _ack(message: dict[str, Any], duplicate: bool) -> dict[str, Any]:
    return {
        "client_id": message["client_id"],
        "conversation_id": message["conversation_id"],
        "message_id": message["id"],
        "seq": message["seq"],
        "created_at": iso(message["created_at"]),
        "duplicate": duplicate,
    }


def _author_data(author: Author) -> dict[str, Any]:
    data: dict[str, Any] = {"author_name": author.name}
    if author.avatar_url:
        data["author_avatar"] = author.avatar_url
    return data


def _duplicate(existing: Row, author: Author) -> Change:
    if existing["author_type"] != author.type or existing["author_id"] != author.id:
        raise InvalidInput(
            f"client id {existing['client_id']!r} was used by another sender",
            code="client_id_conflict",
        )
    return Change(conversation={"id": existing["conversation_id"]}, ack=_ack(existing, True))


def _active_conversation(conn: Connection, site_id: str, visitor_id: str) -> tuple[Row, bool]:
    """The visitor's one non-closed conversation, created if there is none."""
    active = sql.ACTIVE_CONVERSATION.first(conn, {"visitor_id": visitor_id})
    found = active["id"] if active else None
    if found is not None:
        return _locked(conn, found), False
    conversation_id = new_id("cnv")
    now = utcnow()
    try:
        with conn.begin_nested():
            conn.execute(
                insert(conversations).values(
                    id=conversation_id,
                    site_id=site_id,
                    visitor_id=visitor_id,
                    status="open",
                    last_seq=0,
                    visitor_read_seq=0,
                    agent_read_seq=0,
                    created_at=now,
                    last_activity_at=now,
                    tags=[],
                    last_visitor_seq=0,
                    last_agent_seq=0,
                    last_preview="",
                )
            )
    except IntegrityError:
        # Another server process created it between our select and insert.
        again = sql.ACTIVE_CONVERSATION.first(conn, {"visitor_id": visitor_id})
        assert again is not None
        found = again["id"]
        return _locked(conn, found), False
    return _locked(conn, conversation_id), True


def _reopen(appender: _Appender, conn: Connection, by: Author) -> None:
    # This one is closed, so the visitor's active conversation, if any, is another.
    active = sql.ACTIVE_CONVERSATION.first(conn, {"visitor_id": appender.state["visitor_id"]})
    if active is not None:
        other = active["id"]
        raise ConversationConflict(
            f"conversation {appender.state['id']!r} is closed and {other!r} is the visitor's active one",
            active_conversation_id=other,
        )
    appender.set(status="open", closed_at=None, closed_by=None)
    appender.append("conversation.updated", _status_data(appender.state, by))


def _status_data(state: dict[str, Any], by: Author) -> dict[str, Any]:
    return {
        "status": state["status"],
        "assignee_id": state["assignee_id"],
        "by": {"type": by.type, "id": by.id, "name": by.name},
    }


def post_message(
    conn: Connection,
    *,
    author: Author,
    client_id: str,
    text: str,
    conversation_id: str | None,
    site_id: str | None = None,
    visitor_id: str | None = None,
) -> Change:
    """Store a message once per client id; a repeat returns the first ack."""
    if conversation_id is None:
        if author.type != "visitor" or site_id is None or visitor_id is None:
            raise InvalidInput("conversation_id is required", code="invalid_frame")
        existing = _visitor_message_by_client_id(conn, visitor_id, client_id)
        if existing is not None:
            return _duplicate(existing, author)
        row, created = _active_conversation(conn, site_id, visitor_id)
    else:
        row, created = _locked(conn, conversation_id), False
        if author.type == "visitor" and row["visitor_id"] != visitor_id:
            # Same answer as a missing one: never confirm another visitor's id.
            raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
        existing = _existing_message(conn, conversation_id, client_id)
        if existing is not None:
            return _duplicate(existing, author)

    appender = _Appender(conn, row)
    if created:
        appender.append("conversation.created", {"visitor_id": row["visitor_id"], "status": "open"})
    elif appender.state["status"] != "open":
        _reopen(appender, conn, author)
    if author.type == "agent" and appender.state["assignee_id"] is None:
        # The agent who answers an unassigned conversation takes it.
        appender.set(assignee_id=author.id)
        appender.append("conversation.updated", _status_data(appender.state, author))
    message = {
        "id": new_id("msg"),
        "author_type": author.type,
        "author_id": author.id,
        "client_id": client_id,
        "text": text,
    }
    seq = appender.append("message.created", _author_data(author), message)
    summary = appender.flush()
    ack = _ack({**message, "seq": seq, "conversation_id": row["id"], "created_at": appender.now}, False)
    return Change(conversation=summary, frames=appender.frames, ack=ack)


def mark_read(
    conn: Connection,
    *,
    conversation_id: str,
    reader: Author,
    up_to_seq: int,
    visitor_id: str | None = None,
) -> Change:
    row = _locked(conn, conversation_id)
    if reader.type == "visitor" and row["visitor_id"] != visitor_id:
        raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
    column = "visitor_read_seq" if reader.type == "visitor" else "agent_read_seq"
    up_to = min(up_to_seq, row["last_seq"])
    appender = _Appender(conn, row)
    if up_to <= row[column]:
        return Change(conversation=conversation_summary(appender.state))
    appender.set(**{column: up_to})
    appender.append(
        "conversation.read",
        {
            "reader": {"type": reader.type, "id": reader.id, "name": reader.name},
            "up_to_seq": up_to,
            "read_at": iso(appender.now),
        },
    )
    return Change(conversation=appender.flush(), frames=appender.frames)


def set_status(conn: Connection, *, conversation_id: str, status: str, by: Author) -> Change:
    if status not in ("open", "closed"):
        raise InvalidInput(f"status must be open or closed, not {status!r}", code="invalid_status")
    row = _locked(conn, conversation_id)
    appender = _Appender(conn, row)
    if row["status"] == status:
        return Change(conversation=conversation_summary(appender.state))
    if status == "open":
        _reopen(appender, conn, by)
    else:
        appender.set(status="closed", closed_at=appender.now, closed_by=by.id)
        appender.append("conversation.updated", _status_data(appender.state, by))
    return Change(conversation=appender.flush(), frames=appender.frames)


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
    conn: Connection, *, limit: int = 100, status: str | None = "open"
) -> list[dict[str, Any]]:
    query = select(conversations)
    if status is not None:
        query = query.where(conversations.c.status == status)
    rows = conn.execute(query.order_by(conversations.c.last_activity_at.desc()).limit(limit)).mappings().all()
    return [conversation_summary(dict(r)) for r in rows]


def replay_window(
    conn: Connection, conversation_id: str, after_seq: int, limit: int, up_to: int | None = None
) -> dict[str, Any] | None:
    """Events after a cursor, or why they cannot be replayed (frames None)."""
    row = conn.execute(
        select(conversations.c.visitor_id, conversations.c.last_seq).where(
            conversations.c.id == conversation_id
        )
    ).first()
    if row is None:
        return None
    last = row.last_seq if up_to is None else min(up_to, row.last_seq)
    window: dict[str, Any] = {
        "visitor_id": row.visitor_id,
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


def start_from_proactive(
    conn: Connection,
    *,
    site_id: str,
    visitor_id: str,
    delivery_id: str,
    sender: Author,
    texts: list[str],
    tags: list[str],
) -> Change:
    """The visitor's conversation opened by a proactive message: its texts first, its tags on.

    Each text has a client id made from the delivery, so a repeat adds nothing.
    """
    row, created = _active_conversation(conn, site_id, visitor_id)
    appender = _Appender(conn, row)
    if created:
        appender.append("conversation.created", {"visitor_id": visitor_id, "status": "open", "tags": tags})
    for i, text in enumerate(texts):
        client_id = f"proactive.{delivery_id}.{i}"
        if text and _existing_message(conn, row["id"], client_id) is None:
            message = {
                "id": new_id("msg"),
                "author_type": sender.type,
                "author_id": sender.id,
                "client_id": client_id,
                "text": text,
            }
            appender.append("message.created", _author_data(sender), message)
    current = conn.execute(select(conversations.c.tags).where(conversations.c.id == row["id"])).scalar_one()
    merged = list(dict.fromkeys([*(current or []), *tags]))
    if merged != (current or []):
        conn.execute(update(conversations).where(conversations.c.id == row["id"]).values(tags=merged))
    summary = appender.flush()
    summary["tags"] = merged
    return Change(conversation=summary, frames=appender.frames)
