"""Canned responses: the texts agents insert with /shortcut. Changing them publishes
nothing (every workspace fetches them when it opens)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.conversations.models import CannedResponse
from server.db import Database
from server.errors import InvalidInput, NotFound

canned = CannedResponse.__table__  # type: ignore[attr-defined]


def public(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "shortcut": row["shortcut"], "text": row["text"]}


def values_of(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """A canned response's fields from a request body, checked."""
    values: dict[str, Any] = {}
    if "shortcut" in body or not partial:
        shortcut = body.get("shortcut")
        if (
            not isinstance(shortcut, str)
            or not shortcut.strip().lstrip("/").replace("-", "").replace("_", "").isalnum()
        ):
            raise InvalidInput(
                "shortcut: letters, digits, - and _ (e.g. refund)", code="invalid_input", field="shortcut"
            )
        values["shortcut"] = shortcut.strip().lstrip("/").lower()[:40]
    if "text" in body or not partial:
        text = body.get("text")
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= 1000:
            raise InvalidInput("text: 1 to 1000 characters", code="invalid_input", field="text")
        values["text"] = text.strip()
    return values


def listed(conn: Connection) -> list[dict[str, Any]]:
    return [public(r) for r in conn.execute(select(canned).order_by(canned.c.shortcut)).mappings()]


def shortcuts(conn: Connection) -> set[str]:
    return set(conn.execute(select(canned.c.shortcut)).scalars())


def write(conn: Connection, canned_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
    """Create (``canned_id`` None) or change one; a shortcut already taken is refused."""
    try:
        with conn.begin_nested():
            if canned_id is None:
                row = CannedResponse(**values).model_dump()
                conn.execute(insert(canned).values(row))
                return public(row)
            done = conn.execute(update(canned).where(canned.c.id == canned_id).values(**values))
    except IntegrityError:
        raise InvalidInput(
            f"the shortcut /{values['shortcut']} is taken", code="shortcut_taken", field="shortcut"
        ) from None
    if not done.rowcount:
        raise NotFound(f"no canned response {canned_id!r}", code="canned_not_found")
    return public(conn.execute(select(canned).where(canned.c.id == canned_id)).mappings().one())


def remove(conn: Connection, canned_id: str) -> None:
    if not conn.execute(delete(canned).where(canned.c.id == canned_id)).rowcount:
        raise NotFound(f"no canned response {canned_id!r}", code="canned_not_found")


async def save(db: Database, canned_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    values = values_of(body, partial=canned_id is not None)
    return await db.write(lambda c: write(c, canned_id, values))


async def delete_one(db: Database, canned_id: str) -> None:
    await db.write(lambda c: remove(c, canned_id))
