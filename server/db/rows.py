"""Small reads every store makes the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from server.errors import NotFound


def of_site(conn: Connection, table: Table, row_id: str, site_id: str, *, what: str) -> dict[str, Any]:
    """The row with this id on this site, or NotFound (``<what>_not_found``): another
    site's row is answered exactly as a missing one."""
    row = (
        conn.execute(select(table).where(table.c.id == row_id, table.c.site_id == site_id)).mappings().first()
    )
    if row is None:
        raise NotFound(f"no {what.replace('_', ' ')} {row_id!r} on this site", code=f"{what}_not_found")
    return dict(row)


def site_of(conn: Connection, table: Table, row_id: str, *, what: str) -> str:
    """The site a row belongs to, or NotFound (``<what>_not_found``)."""
    site_id = conn.execute(select(table.c.site_id).where(table.c.id == row_id)).scalar()
    if site_id is None:
        raise NotFound(f"no {what.replace('_', ' ')} {row_id!r}", code=f"{what}_not_found")
    return str(site_id)
