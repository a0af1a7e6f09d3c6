"""Bot answers, their published versions and their runs in conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow


class BotAnswer(SQLModel, table=True):
    """A bot's answer: a flow of steps (server/bots/flows.py) that proactive bot messages,
    greeting surveys and away flows start."""

    __tablename__ = "bot_answers"

    id: str = Field(default_factory=lambda: new_id("ans"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", index=True, max_length=40)
    name: str = Field(max_length=100)
    published: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    # Who the visitor sees writing.
    bot_name: str = Field(default="Bot", max_length=60)
    # The flow being edited (server/bots/flows.py); publishing copies it into bot_answer_versions.
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=0)  # the published version; 0: never published
    updated_at: datetime | None = Field(default=None)


class BotAnswerVersion(SQLModel, table=True):
    """A published version of a bot answer's flow: runs keep the version they started on,
    so editing the draft (or publishing again) never changes a conversation mid-flow."""

    __tablename__ = "bot_answer_versions"

    answer_id: str = Field(
        sa_column=Column(String(40), ForeignKey("bot_answers.id", ondelete="CASCADE"), primary_key=True)
    )
    version: int = Field(primary_key=True)
    flow: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(default_factory=utcnow)


class BotRun(SQLModel, table=True):
    """Where a conversation's bot is: stored with the bot's messages, in one transaction."""

    __tablename__ = "bot_runs"

    conversation_id: str = Field(foreign_key="conversations.id", primary_key=True, max_length=40)
    answer_id: str = Field(max_length=40)
    version: int
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # waiting_input | waiting_time | handed_off | ended
    status: str = Field(max_length=20)
    wake_at: datetime | None = Field(default=None, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
