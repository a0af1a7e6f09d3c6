"""What the widget and SDKs report about a contact: visits, page views, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow


class Visit(SQLModel, table=True):
    __tablename__ = "visits"

    id: str = Field(default_factory=lambda: new_id("vst"), primary_key=True, max_length=40)
    visitor_id: str = Field(foreign_key="visitors.id", index=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    started_at: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime = Field(default_factory=utcnow)
    landing_url: str | None = Field(default=None, max_length=2048)
    referrer: str | None = Field(default=None, max_length=2048)
    user_agent: str | None = Field(default=None, max_length=512)
    # From the user agent and the landing page's address.
    device: str | None = Field(default=None, max_length=20)  # desktop | mobile | tablet | bot
    browser: str | None = Field(default=None, max_length=50)
    os: str | None = Field(default=None, max_length=50)
    utm: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PageView(SQLModel, table=True):
    __tablename__ = "page_views"
    __table_args__ = (Index("ix_page_views_visitor_at", "visitor_id", "at"),)

    id: str = Field(default_factory=lambda: new_id("pv"), primary_key=True, max_length=40)
    visitor_id: str = Field(foreign_key="visitors.id", max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    url: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=512)
    referrer: str | None = Field(default=None, max_length=2048)
    at: datetime = Field(default_factory=utcnow)


class TrackedEvent(SQLModel, table=True):
    """A custom event from Parley('track', name, props) or an SDK."""

    __tablename__ = "tracked_events"
    __table_args__ = (Index("ix_tracked_events_visitor_at", "visitor_id", "at"),)

    id: str = Field(default_factory=lambda: new_id("evt"), primary_key=True, max_length=40)
    visitor_id: str = Field(foreign_key="visitors.id", max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    name: str = Field(max_length=100)
    props: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)
