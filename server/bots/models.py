from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from server.ids import utcnow


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
