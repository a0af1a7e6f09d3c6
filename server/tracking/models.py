from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, text
from sqlmodel import Field, SQLModel

from server.ids import new_id, utcnow


class Visitor(SQLModel, table=True):
    __tablename__ = "visitors"
    __table_args__ = (
        Index(
            "ux_visitors_site_verified_user",
            "site_id",
            "user_id",
            unique=True,
            sqlite_where=text("verified"),
            postgresql_where=text("verified"),
        ),
    )

    id: str = Field(default_factory=lambda: new_id("vis"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", index=True, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    locale: str | None = Field(default=None, max_length=35)
    timezone: str | None = Field(default=None, max_length=64)
    client_kind: str = Field(default="web", max_length=20)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The host site's own id for this person, from Parley('identify'); unique
    # per site among verified visitors (a partial index), so that a verified
    # user is one contact across browsers and devices.
    phone: str | None = Field(default=None, max_length=40)
    phone_digits: str | None = Field(default=None, max_length=20)
    user_id: str | None = Field(default=None, max_length=255)
    verified: bool = Field(default=False)
    visit_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


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


TERM = String(120).with_variant(String(120, collation="C"), "postgresql")


class VisitorTerm(SQLModel, table=True):
    """One searchable piece of a visitor (server/conversations/inbox.py explains the kinds)."""

    __tablename__ = "visitor_terms"
    __table_args__ = (Index("ix_visitor_terms_visitor_term", "visitor_id", "term"),)

    # Byte order on PostgreSQL ("C"): a prefix's terms sit side by side in the index.
    term: str = Field(
        sa_column=Column(
            String(120).with_variant(String(120, collation="C"), "postgresql"),
            primary_key=True,
            nullable=False,
        )
    )
    visitor_id: str = Field(primary_key=True, foreign_key="visitors.id", max_length=40)
