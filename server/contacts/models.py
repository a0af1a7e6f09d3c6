"""Who a visitor is: the contact, and what it can be found by."""

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
        Index("ix_visitors_site_listed", "site_id", "listed_at"),
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
    # A visitor becomes a contact (listed on /contacts) when they write or identify,
    # or when someone adds or imports them; anonymous browsers stay off the list.
    listed_at: datetime | None = Field(default=None)
    added_by: str | None = Field(default=None, max_length=40)  # the user who added them by hand
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class VisitorTerm(SQLModel, table=True):
    """One searchable piece of a visitor (server/contacts/search.py explains the kinds)."""

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


class ContactChange(SQLModel, table=True):
    """One change to a contact: who made it (an agent, a bot, a proactive message, an
    import, the visitor), which field, the value before and after, and when."""

    __tablename__ = "contact_changes"
    __table_args__ = (Index("ix_contact_changes_visitor_at", "visitor_id", "at"),)

    id: str = Field(default_factory=lambda: new_id("chg"), primary_key=True, max_length=40)
    visitor_id: str = Field(foreign_key="visitors.id", max_length=40)
    actor_type: str = Field(max_length=20)
    actor_id: str | None = Field(default=None, max_length=40)
    actor_name: str | None = Field(default=None, max_length=200)
    field: str = Field(max_length=80)
    old: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: datetime = Field(default_factory=utcnow)
