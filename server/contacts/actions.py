"""Changes to a contact, committed. (Identify, which may merge conversations, is a
conversations action: server/conversations/merge.py.)"""

from __future__ import annotations

from typing import Any

from server.contacts import store
from server.db import Database


async def set_attributes(db: Database, *, visitor_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Merge attributes into the contact's (null removes a key); returns them all."""
    return await db.write(lambda c: store.set_attributes(c, visitor_id=visitor_id, attributes=attributes))
