"""Changes to a contact, committed. (Identify, which may merge conversations, is a
conversations action: server/conversations/merge.py.)"""

from __future__ import annotations

from typing import Any

from server.contacts import book, store
from server.contacts.book import Actor
from server.contacts.models import Visitor
from server.db import Database


async def set_attributes(db: Database, *, visitor_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Merge attributes into the contact's (null removes a key); returns them all."""
    return await db.write(lambda c: store.set_attributes(c, visitor_id=visitor_id, attributes=attributes))


async def add(db: Database, site_id: str, body: dict[str, Any], by: Actor, country: str | None) -> Visitor:
    """A contact added by hand (contact_exists when the email or phone is taken)."""
    return await db.write(lambda c: book.add(c, site_id, body, by, country))


async def change(
    db: Database, visitor_id: str, body: dict[str, Any], by: Actor, country: str | None
) -> Visitor:
    return await db.write(lambda c: book.change(c, visitor_id, body, by, country))


async def tag(db: Database, visitor_id: str, add: list[str], remove: list[str], by: Actor) -> list[str]:
    """Add and remove tags in one transaction; returns the contact's tags."""

    def step(conn: Any) -> list[str]:
        tags = book.tag(conn, visitor_id, add, by) if add else store.visitor(conn, visitor_id).tags
        return book.tag(conn, visitor_id, remove, by, remove=True) if remove else tags

    return await db.write(step)
