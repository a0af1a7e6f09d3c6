from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow

STATUSES: tuple[str, ...] = ("open", "snoozed", "closed")


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        # One active thread per visitor: makes "find or create" safe across
        # server processes without a lock of our own.
        Index(
            "uq_conversations_active_visitor",
            "visitor_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
        Index("ix_conversations_site_last_activity", "site_id", "last_activity_at"),
        # The inbox: by status (All), by assignee (Mine), unassigned; newest first.
        Index("ix_conversations_status_activity", "status", "last_activity_at"),
        Index("ix_conversations_assignee_status_activity", "assignee_id", "status", "last_activity_at"),
    )

    id: str = Field(default_factory=lambda: new_id("cnv"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    visitor_id: str = Field(foreign_key="visitors.id", index=True, max_length=40)
    status: str = Field(default="open", max_length=20)
    assignee_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    # The sequence counter: every event takes last_seq + 1 under the row lock.
    last_seq: int = Field(default=0)
    visitor_read_seq: int = Field(default=0)
    agent_read_seq: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = Field(default=None)
    closed_by: str | None = Field(default=None, max_length=40)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # For the inbox, kept by every message: unread = agent_read_seq < last_visitor_seq;
    # unanswered = last_visitor_seq > last_agent_seq.
    last_visitor_seq: int = Field(default=0)
    last_agent_seq: int = Field(default=0)
    last_preview: str = Field(default="", max_length=140)
    # Which of the site's channels it came through: decides which agents see it.
    channel_id: str | None = Field(default=None, max_length=40)
    # Snoozed: hidden from Open (and Closed) until then, or until the visitor writes.
    snoozed_until: datetime | None = Field(default=None, index=True)
    # A bot is answering: the inbox shows no markers and the badge does not count it.
    bot_active: bool = Field(default=False)
    # The contact's latest link reference when it started (server/contacts/refs.py).
    ref: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "client_id", name="uq_messages_client_id"),)

    id: str = Field(default_factory=lambda: new_id("msg"), primary_key=True, max_length=40)
    conversation_id: str = Field(foreign_key="conversations.id", max_length=40)
    seq: int
    author_type: str = Field(max_length=20)  # visitor | agent | system
    author_id: str | None = Field(default=None, max_length=40)
    client_id: str | None = Field(default=None, index=True, max_length=64)
    text: str
    created_at: datetime = Field(default_factory=utcnow)
    # [{id, name, content_type, size}] of the files sent with it (server/conversations/attachments.py).
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Quick replies a bot offers with the message (their labels).
    buttons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ConversationEvent(SQLModel, table=True):
    __tablename__ = "conversation_events"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_events_seq"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    conversation_id: str = Field(foreign_key="conversations.id", max_length=40)
    seq: int
    type: str = Field(max_length=40)
    # Message events point at their row instead of copying the text.
    message_id: str | None = Field(default=None, foreign_key="messages.id", max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class CannedResponse(SQLModel, table=True):
    """A saved reply agents insert by typing its shortcut (``/refund``) in the composer."""

    __tablename__ = "canned_responses"

    id: str = Field(default_factory=lambda: new_id("cnd"), primary_key=True, max_length=40)
    shortcut: str = Field(unique=True, max_length=40)
    text: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """An uploaded file; ``message_id`` is set once a message sends it."""

    __tablename__ = "attachments"

    id: str = Field(default_factory=lambda: new_id("att"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    uploader_type: str = Field(max_length=20)  # visitor | agent
    uploader_id: str = Field(max_length=40)
    name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    message_id: str | None = Field(default=None, index=True, max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


class AttachmentBlob(SQLModel, table=True):
    """An attachment's bytes, apart from its metadata so listing never reads them."""

    __tablename__ = "attachment_blobs"

    id: str = Field(foreign_key="attachments.id", primary_key=True, max_length=40)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
