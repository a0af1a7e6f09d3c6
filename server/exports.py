"""Exports of the contact list as CSV: a job, run by the scheduler in every process, that
walks the filtered list page by page and keeps each page's rows as one chunk, written
in the same transaction as the job's cursor. A process that dies mid-export loses no
row and writes none twice: another (or the same, restarted) claims the job once its
lease runs out and goes on after the last committed page.

Cells a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are written with a leading ``'``, so a contact's name can
never run as a formula in whoever opens the file (OWASP's "CSV injection").

The file is UTF-8 with a byte-order mark and ``,`` separators, as spreadsheets open it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Index, LargeBinary, delete, func, insert, select, update
from sqlmodel import Field, SQLModel

from server.contacts import book, fields, refs
from server.contacts.book import Filters
from server.contacts.imports import safe_cell
from server.contacts.models import Visitor
from server.conversations import directory
from server.db import Database, leases
from server.errors import NotFound
from server.ids import iso, new_id, utcnow

log = logging.getLogger(__name__)

PAGE = 500


class ContactExport(SQLModel, table=True):
    """An export of the contact list: its filters, its progress and where it stands."""

    __tablename__ = "contact_exports"
    __table_args__ = (Index("ix_contact_exports_status", "status", "lease_until"),)

    id: str = Field(default_factory=lambda: new_id("exp"), primary_key=True, max_length=40)
    site_id: str = Field(foreign_key="sites.id", max_length=40)
    created_by: str = Field(max_length=40)
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=10)  # queued | running | done | failed
    rows_total: int = Field(default=0)  # counted when it starts (a name search may find fewer)
    rows_done: int = Field(default=0)
    chunks: int = Field(default=0)
    cursor: str | None = Field(default=None, max_length=400)  # the list's, after the last page
    lease_until: datetime | None = Field(default=None)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)


class ExportChunk(SQLModel, table=True):
    """One page of an export's file (bytes, in order)."""

    __tablename__ = "export_chunks"

    export_id: str = Field(foreign_key="contact_exports.id", primary_key=True, max_length=40)
    n: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


exports = ContactExport.__table__  # type: ignore[attr-defined]
chunks = ExportChunk.__table__  # type: ignore[attr-defined]


def _filters(stored: dict[str, Any], cursor: str | None) -> tuple[Filters, list[Any]]:
    f = Filters(
        query=stored.get("q") or "",
        tag=stored.get("tag"),
        field=stored.get("field"),
        value=stored.get("value"),
        sort=stored.get("sort") or "last_seen",
        descending=stored.get("dir", "desc") == "desc",
        cursor=cursor,
        limit=PAGE,
    )
    return f, directory.conditions(channel=stored.get("channel"), open_=stored.get("open"))


# -- writes, each in one transaction -------------------------------------------------------


def create(conn: Connection, site_id: str, user_id: str, filters: dict[str, Any]) -> ContactExport:
    """A queued export of the list as ``filters`` find it; a filter the list refuses
    (a field's value not of its type) is refused here, before any job starts."""
    f, also = _filters(filters, None)
    book.listed(conn, site_id, replace(f, limit=1), also)
    export = ContactExport(site_id=site_id, created_by=user_id, filters=filters)
    conn.execute(insert(exports).values(export.model_dump()))
    return export


def load(conn: Connection, export_id: str) -> ContactExport:
    row = conn.execute(select(exports).where(exports.c.id == export_id)).mappings().first()
    if row is None:
        raise NotFound(f"no export {export_id!r}", code="export_not_found")
    return ContactExport.model_validate(dict(row))


def claim(conn: Connection, now: Any, lease_until: Any) -> ContactExport | None:
    """The oldest queued export, or a running one whose process went quiet."""
    candidate = leases.take_oldest(conn, exports, now, lease_until)
    if candidate is None:
        return None
    export = load(conn, candidate)
    if export.chunks == 0:
        f, also = _filters(export.filters, None)
        total = conn.execute(
            select(func.count()).select_from(book.listed_query(conn, export.site_id, f, also).subquery())
        ).scalar_one()
        conn.execute(update(exports).where(exports.c.id == export.id).values(rows_total=total))
        export = export.model_copy(update={"rows_total": total})
    return export


def page(conn: Connection, export: ContactExport, lease_until: Any) -> ContactExport:
    """The next page of rows, kept as the next chunk with the cursor after it; the
    export is done when no page follows."""
    defined = fields.definitions(conn, export.site_id)
    f, also = _filters(export.filters, export.cursor)
    found = book.listed(conn, export.site_id, f, also, shape=lambda v: _row(v, defined))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if export.chunks == 0:
        out.write("\ufeff")
        writer.writerow(HEADERS + [d.label for d in defined])
    writer.writerows(found["contacts"])
    conn.execute(insert(chunks).values(export_id=export.id, n=export.chunks, data=out.getvalue().encode()))
    values: dict[str, Any] = {
        "chunks": export.chunks + 1,
        "rows_done": export.rows_done + len(found["contacts"]),
        "cursor": found["next_cursor"],
        "lease_until": lease_until,
    }
    if not found["next_cursor"]:
        values.update(status="done", finished_at=utcnow(), lease_until=None)
        values["rows_total"] = values["rows_done"]
    conn.execute(update(exports).where(exports.c.id == export.id).values(**values))
    return export.model_copy(update=values)


def fail(conn: Connection, export_id: str, error: str) -> None:
    conn.execute(delete(chunks).where(chunks.c.export_id == export_id))
    conn.execute(
        update(exports)
        .where(exports.c.id == export_id)
        .values(status="failed", error=error[:500], finished_at=utcnow(), lease_until=None)
    )


HEADERS = [
    "Id",
    "Name",
    "Email",
    "Phone",
    "Tags",
    "User id",
    "Added",
    "Last seen",
    "First came from",
    "Lately came from",
]


def _row(v: Visitor, defined: list[fields.Field]) -> list[str]:
    cells: list[Any] = [
        v.id,
        v.name,
        v.email,
        v.phone,
        ", ".join(v.tags),
        v.user_id,
        iso(v.listed_at) if v.listed_at else None,
        iso(v.last_seen_at),
        refs.word(v.first_ref),
        refs.word(v.latest_ref),
        *[v.attributes.get(d.key) for d in defined],
    ]
    return [safe_cell(_text(c)) for c in cells]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def file(db: Database, export_id: str) -> Iterator[bytes]:
    """The export's file, chunk by chunk (read as it is sent, never whole in memory)."""
    n = 0
    while (data := db.read_sync(_chunk, export_id, n)) is not None:
        yield data
        n += 1


def _chunk(conn: Connection, export_id: str, n: int) -> bytes | None:
    found: bytes | None = conn.execute(
        select(chunks.c.data).where(chunks.c.export_id == export_id, chunks.c.n == n)
    ).scalar()
    return found


def summary(export: ContactExport) -> dict[str, Any]:
    return {
        "id": export.id,
        "status": export.status,
        "rows_total": export.rows_total,
        "rows_done": export.rows_done,
        "error": export.error,
        "created_at": iso(export.created_at),
        "finished_at": iso(export.finished_at) if export.finished_at else None,
        "url": f"/api/v1/contact-exports/{export.id}/contacts.csv" if export.status == "done" else None,
    }


# -- the job ---------------------------------------------------------------------------------


class ExportRunner(leases.Runner[ContactExport]):
    """Scheduler step: one export at a time in this process, claimed with a lease that
    each page renews (server/db/leases.py)."""

    def __init__(self, db: Database, lease_s: float) -> None:
        super().__init__(db, exports, lease_s, claim, self._run)

    async def _run(self, export: ContactExport) -> None:
        try:
            while export.status == "running":
                lease_until = utcnow() + self.lease
                export = await self.db.write(page, export, lease_until)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("export %s failed", export.id)
            error = f"{exc.__class__.__name__}: {exc}"
            await self.db.write(lambda c: fail(c, export.id, error))


async def start(db: Database, site_id: str, user_id: str, filters: dict[str, Any]) -> ContactExport:
    """Queue an export (the action the page's "Export CSV" runs); a process's scheduler
    takes it at its next tick."""
    return await db.write(lambda c: create(c, site_id, user_id, filters))
