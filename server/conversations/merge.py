"""A browser that turns out to be a known contact: its conversations move there.

The move goes through the Appender like every other change to a
conversation: each moved conversation gets a ``conversation.updated`` event
naming its new visitor, so open sockets (the contact's other browsers, the
agents' inbox) learn of it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from server.contacts import store as contacts
from server.conversations.events import Appender, Author, Change, locked, status_data
from server.conversations.models import Conversation

conversations = Conversation.__table__  # type: ignore[attr-defined]

MERGE = Author("system", None, "Identity")


def move_conversations(conn: Connection, source: str, target: str) -> list[Change]:
    """The source visitor's closed conversations move to the target, and its open one
    too unless the target has one of its own."""
    has_active = conn.execute(
        select(conversations.c.id)
        .where(conversations.c.visitor_id == target, conversations.c.status != "closed")
        .limit(1)
    ).first()
    query = select(conversations.c.id).where(conversations.c.visitor_id == source)
    if has_active is not None:
        query = query.where(conversations.c.status == "closed")
    changes = []
    for (conversation_id,) in conn.execute(query.order_by(conversations.c.id)).all():
        appender = Appender(conn, locked(conn, conversation_id))
        conn.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(visitor_id=target)
        )
        appender.set(visitor_id=target)
        appender.append("conversation.updated", {**status_data(appender.state, MERGE), "visitor_id": target})
        changes.append(Change(appender.flush(), appender.frames))
    return changes


def identify(
    conn: Connection,
    *,
    visitor_id: str,
    user_id: str | None,
    name: str | None,
    email: str | None,
    verified: bool,
    phone: str | None = None,
) -> tuple[contacts.Identified, list[Change]]:
    """``contacts.store.identify``, and on a merge the conversations' move, in one transaction."""
    result = contacts.identify(
        conn, visitor_id=visitor_id, user_id=user_id, name=name, email=email, verified=verified, phone=phone
    )
    moved = move_conversations(conn, result.source, result.visitor.id) if result.source else []
    return result, moved
