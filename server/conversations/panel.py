"""The contact panel beside a conversation: who the visitor is, where they came
from, the page they wrote from, and their other conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from server.channels.store import site_channels
from server.contacts import refs
from server.conversations import queries
from server.conversations.models import Conversation
from server.tracking import reports

conversations = Conversation.__table__  # type: ignore[attr-defined]


def contact_panel(conn: Connection, conversation: dict[str, Any]) -> dict[str, Any]:
    visitor_id = conversation["visitor_id"]
    # The page they wrote from: the last one they opened before the conversation began.
    started = queries.first_visitor_message_at(conn, conversation["id"])
    channel = None
    if conversation.get("channel_id"):
        found = [
            c for c in site_channels(conn, conversation["site_id"]) if c.id == conversation["channel_id"]
        ]
        channel = {"id": found[0].id, "kind": found[0].kind, "name": found[0].name} if found else None
    others = [
        c
        for c in queries.visitor_conversations(conn, visitor_id, include_closed=True)
        if c["id"] != conversation["id"]
    ]
    return {
        "visitor": reports.visitor_profile(conn, visitor_id, recent=10),
        "channel": channel,
        "device": reports.latest_visit(conn, visitor_id),
        "pages_seen": reports.pages_seen(conn, visitor_id),
        "wrote_from": reports.page_at(conn, visitor_id, started) if started is not None else None,
        "tags": conversation.get("tags") or [],
        # Link references: what this conversation started from, and the contact's first and latest.
        "refs": {
            "conversation": conn.execute(
                select(conversations.c.ref).where(conversations.c.id == conversation["id"])
            ).scalar(),
            **refs.of_contact(conn, visitor_id),
        },
        "other_conversations": [
            {k: c[k] for k in ("id", "status", "created_at", "last_activity_at", "last_preview")}
            for c in others
        ],
    }
