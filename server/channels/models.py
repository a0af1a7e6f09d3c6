"""A site's channels."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow

CHANNEL_KINDS = ("web", "sdk")


class Channel(SQLModel, table=True):
    """Where conversations come from and proactive messages go: a site's web widget or its
    mobile SDK apps."""

    __tablename__ = "channels"

    id: str = Field(default_factory=lambda: new_id("chn"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", index=True, max_length=40)
    kind: str = Field(max_length=10)  # web | sdk
    name: str = Field(max_length=100)
    enabled: bool = Field(default=True)
    # The default sender: who proactive messages on this channel come from.
    sender_name: str = Field(default="", max_length=100)
    sender_avatar_url: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(default_factory=utcnow)
