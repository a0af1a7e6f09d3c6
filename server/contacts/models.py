"""Who a visitor is: the contact, and what it can be found by."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, String, text
from sqlalchemy.orm import configure_mappers
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
        Index("ix_visitors_site_user", "site_id", "user_id"),  # imports match rows by user id
        # The contact list's sorts walk these instead of sorting every contact.
        Index("ix_visitors_site_seen", "site_id", "last_seen_at"),
        # The name sort (book.listed) orders by coalesce(name, ''), then id.
        Index("ix_visitors_site_name_sort", "site_id", text("coalesce(name, '')"), "id"),
        # Duplicates are caught by email (any case) and E.164 phone (book.candidates).
        Index("ix_visitors_site_email", "site_id", text("lower(email)")),
        Index("ix_visitors_site_phone", "site_id", "phone"),
        Index("ux_visitors_search_row", "search_row", unique=True),
        # A search's candidates (SQLite's search rows) sorted without reading their rows:
        # search rows are handed out in order, so this index only ever grows at its end.
        Index(
            "ix_visitors_search_sort",
            "search_row",
            "site_id",
            "listed_at",
            "last_seen_at",
            "id",
            sqlite_where=text("search_row IS NOT NULL"),
            postgresql_where=text("search_row IS NOT NULL"),
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
    # A visitor becomes a contact (listed on /contacts) when they write or identify,
    # or when someone adds or imports them; anonymous browsers stay off the list.
    listed_at: datetime | None = Field(default=None)
    added_by: str | None = Field(default=None, max_length=40)  # the user who added them by hand
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Link references (server/contacts/refs.py): where the contact first came from, and lately.
    # The visitor's row in SQLite's visitor_search (server/contacts/search.py); None elsewhere.
    search_row: int | None = Field(default=None)
    first_ref: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    latest_ref: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))


def visitor_of(row: Mapping[Any, Any]) -> Visitor:
    """A visitor from its row as SQLAlchemy read it: the column types already made its
    values (times, JSON, booleans), so it is not validated again (a sixth of the time:
    a page of the contact list, an import's batch of matches)."""
    configure_mappers()  # what validating would have done first (a flag check once done)
    return Visitor.model_construct(**dict(row))


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


class ContactImport(SQLModel, table=True):
    """A CSV import: the file as uploaded (in ``ImportChunk`` rows), how it reads, its
    mapping and mode, and its progress. A job: any process may claim it while its lease
    has run out, and it resumes after ``rows_done`` (docs/contacts.md)."""

    __tablename__ = "contact_imports"
    __table_args__ = (Index("ix_contact_imports_status", "status", "lease_until"),)

    id: str = Field(default_factory=lambda: new_id("imp"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    created_by: str = Field(max_length=40)
    filename: str = Field(max_length=200)
    size: int
    encoding: str = Field(max_length=40)
    delimiter: str = Field(max_length=4)
    headers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rows_total: int = Field(default=0)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    mode: str = Field(default="upsert", max_length=10)  # add | update | upsert
    keep_existing: bool = Field(default=False)  # do not overwrite values a contact has
    dry: bool = Field(default=True)  # the current (or last) run only counts
    status: str = Field(default="uploaded", max_length=10)  # uploaded | queued | running | done | failed
    rows_done: int = Field(default=0)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    lease_until: datetime | None = Field(default=None)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)


class ImportChunk(SQLModel, table=True):
    """A piece of an import's file, as uploaded (bytes, in order)."""

    __tablename__ = "import_chunks"

    import_id: str = Field(foreign_key="contact_imports.id", primary_key=True, max_length=40)
    n: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ImportReject(SQLModel, table=True):
    """A row an import did not take, and why (the downloadable CSV of rejected rows)."""

    __tablename__ = "import_rejects"

    import_id: str = Field(foreign_key="contact_imports.id", primary_key=True, max_length=40)
    row: int = Field(primary_key=True)  # 1 is the first row after the headers
    reason: str = Field(max_length=300)
    cells: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
