"""Appending to a conversation: its row locked, events numbered, one UPDATE at the end.

Every writer of a conversation goes through ``Appender``: it keeps the row's
counters (the sequence, who spoke last, the preview) as events are appended,
and writes them back once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from server.conversations import statements as sql
from server.conversations.frames import conversation_summary, event_frame
from server.errors import InvalidInput, NotFound
from server.ids import iso, utcnow

# A row as the hot-path statements return it.
Row = dict[str, Any]


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


def locked(conn: Connection, conversation_id: str) -> Row:
    row = sql.LOCK_CONVERSATION.first(conn, {"id": conversation_id})
    if row is None:
        raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
    return row


class Appender:
    """Appends events to one locked conversation, tracking its counter."""

    def __init__(self, conn: Connection, row: Row) -> None:
        self.conn = conn
        self.state = dict(row)
        self.frames: list[dict[str, Any]] = []
        self.now = utcnow()

    def append(self, type_: str, data: dict[str, Any], message: dict[str, Any] | None = None) -> int:
        self.state["last_seq"] += 1
        seq = self.state["last_seq"]
        if message is not None and type_ == "message.created":
            # What the inbox shows without reading messages: who spoke last, and what.
            # Greetings and other system messages answer nobody.
            side = {"visitor": "last_visitor_seq", "agent": "last_agent_seq"}.get(message["author_type"])
            if side is not None:
                self.state[side] = seq
            files = message.get("attachments") or []
            preview = message["text"] or " ".join("📎 " + f["name"] for f in files)
            self.state["last_preview"] = preview[:140]
        if message is not None:
            message = {
                "attachments": [],
                "buttons": [],
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
            "snoozed_until",
            "bot_active",
        )
        sql.UPDATE_CONVERSATION.run(self.conn, {k: self.state[k] for k in (*keys, "id")})
        return conversation_summary(self.state)


def author_data(author: Author) -> dict[str, Any]:
    data: dict[str, Any] = {"author_name": author.name}
    if author.avatar_url:
        data["author_avatar"] = author.avatar_url
    return data


def status_data(state: dict[str, Any], by: Author) -> dict[str, Any]:
    return {
        "status": state["status"],
        "assignee_id": state["assignee_id"],
        "snoozed_until": iso(state.get("snoozed_until")),
        "closed_at": iso(state.get("closed_at")),
        "by": {"type": by.type, "id": by.id, "name": by.name},
    }
