"""Proactive messages and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow

STATUSES = ("draft", "live", "paused", "error")


class ProactiveMessage(SQLModel, table=True):
    __tablename__ = "proactive_messages"

    id: str = Field(default_factory=lambda: new_id("pro"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", index=True, max_length=40)
    name: str = Field(max_length=100)
    status: str = Field(default="draft", max_length=10)
    error_reason: str | None = Field(default=None, max_length=300)
    channel_id: str | None = Field(default=None, max_length=40)
    response: str = Field(default="agent", max_length=10)  # agent | bot
    text: str = Field(default="", max_length=280)
    # Details asked for before a conversation; agent responses only (a bot collects in its flow).
    collect: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    followup: str = Field(default="", max_length=280)
    bot_answer_id: str | None = Field(default=None, max_length=40)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trigger: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    conditions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    schedule: str = Field(default="any", max_length=30)
    frequency: str = Field(default="once_per_visit", max_length=20)
    priority: int = Field(default=10)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def asks_for(self) -> list[str]:
        """What the widget's form asks before the first message. A bot response
        asks nothing there, whatever ``collect`` holds: the widget shows no form
        for it, so requiring details would leave the visitor stuck."""
        return self.collect if self.response == "agent" else []


class ProactiveDelivery(SQLModel, table=True):
    """One showing of a message to a visitor; opened and replied are set once."""

    __tablename__ = "proactive_deliveries"
    __table_args__ = (
        Index("ux_proactive_deliveries_dedupe", "dedupe_key", unique=True),
        Index("ix_proactive_deliveries_visit", "visit_id"),
    )

    id: str = Field(default_factory=lambda: new_id("dlv"), primary_key=True, max_length=40)
    message_id: str = Field(foreign_key="proactive_messages.id", index=True, max_length=40)
    site_id: str = Field(max_length=40)
    visitor_id: str = Field(foreign_key="visitors.id", index=True, max_length=40)
    visit_id: str = Field(max_length=40)
    # once: message+visitor; once per visit: +visit; every time: +the page view or event
    dedupe_key: str = Field(max_length=200)
    shown_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = Field(default=None)
    dismissed_at: datetime | None = Field(default=None)
    replied_at: datetime | None = Field(default=None)
    conversation_id: str | None = Field(default=None, max_length=40)
