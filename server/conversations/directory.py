"""What the contact list asks of conversations: contacts with a conversation on a
channel, with one open or snoozed, and a contact's conversations on every channel.
(The contact base is below conversations; these conditions are handed down to it.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, exists, select

from server.channels.models import Channel
from server.contacts import refs
from server.contacts.store import visitors
from server.conversations.models import Conversation
from server.ids import iso

conversations = Conversation.__table__  # type: ignore[attr-defined]
channels = Channel.__table__  # type: ignore[attr-defined]


def conditions(*, channel: str | None = None, open_: bool | None = None) -> list[Any]:
    """Conditions on ``visitors`` for the contact list's channel and "has an open conversation" filters."""
    found: list[Any] = []
    if channel:
        found.append(
            exists(
                select(conversations.c.id)
                .join(channels, channels.c.id == conversations.c.channel_id)
                .where(conversations.c.visitor_id == visitors.c.id, channels.c.kind == channel)
            )
        )
    if open_ is not None:
        active = exists(
            select(conversations.c.id).where(
                conversations.c.visitor_id == visitors.c.id, conversations.c.status.in_(("open", "snoozed"))
            )
        )
        found.append(active if open_ else ~active)
    return found


def of_contact(conn: Connection, visitor_id: str) -> list[dict[str, Any]]:
    """The contact's conversations on every channel, newest first."""
    rows = conn.execute(
        select(
            conversations.c.id,
            conversations.c.status,
            conversations.c.last_preview,
            conversations.c.last_activity_at,
            conversations.c.tags,
            conversations.c.ref,
            channels.c.kind,
            channels.c.name,
        )
        .join(channels, channels.c.id == conversations.c.channel_id)
        .where(conversations.c.visitor_id == visitor_id)
        .order_by(conversations.c.last_activity_at.desc())
        .limit(100)
    ).mappings()
    return [
        {
            "id": r["id"],
            "status": r["status"],
            "preview": r["last_preview"],
            "last_activity_at": iso(r["last_activity_at"]),
            "tags": r["tags"],
            "ref": refs.word(r["ref"]),
            "channel": {"kind": r["kind"], "name": r["name"]},
        }
        for r in rows
    ]
