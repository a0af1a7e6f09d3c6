"""How stored events look on the wire. One function per shape, used for live
delivery, replay and history alike, so the three can never disagree."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from server.contacts import refs
from server.ids import iso
from server.outgoing import ORIGINS


def origin_of(message: dict[str, Any], data: dict[str, Any]) -> str:
    """Where a message came from (protocol ORIGINS), so that clients never parse ids."""
    stored = data.get("origin") or data.get("kind")  # kind: greeting and away messages
    if stored in ORIGINS:
        return str(stored)
    if message["author_type"] in ("visitor", "agent", "bot"):
        return str(message["author_type"])
    if str(message.get("client_id") or "").startswith("proactive."):
        return "proactive"  # stored before the origin was
    return "system"


def event_frame(
    conversation_id: str,
    seq: int,
    type_: str,
    data: dict[str, Any],
    at: Any,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": type_,
        "conversation_id": conversation_id,
        "seq": seq,
        "at": iso(at),
    }
    if message is not None:
        frame["message"] = {
            "id": message["id"],
            "seq": seq,
            "author": {
                "type": message["author_type"],
                "id": message["author_id"],
                "name": data.get("author_name"),
                "avatar_url": data.get("author_avatar"),
            },
            "origin": origin_of(message, data),
            "client_id": message["client_id"],
            "text": message["text"],
            "created_at": iso(message["created_at"]),
        }
        if message.get("buttons"):
            frame["message"]["buttons"] = list(message["buttons"])
        files = message.get("attachments")
        if files:
            # Paths on this server; the id in each is the capability to fetch it.
            frame["message"]["attachments"] = [
                {**f, "url": f"/api/v1/attachments/{f['id']}/{quote(f['name'])}"} for f in files
            ]
    else:
        frame.update(data)
    return frame


def conversation_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "site_id": row["site_id"],
        "visitor_id": row["visitor_id"],
        "status": row["status"],
        "assignee_id": row["assignee_id"],
        "last_seq": row["last_seq"],
        "visitor_read_seq": row["visitor_read_seq"],
        "agent_read_seq": row["agent_read_seq"],
        "created_at": iso(row["created_at"]),
        "last_activity_at": iso(row["last_activity_at"]),
        "closed_at": iso(row.get("closed_at")),
        "closed_by": row.get("closed_by"),
        "channel_id": row.get("channel_id"),
        "snoozed_until": iso(row.get("snoozed_until")),
        "bot_active": bool(row.get("bot_active")),
        "last_visitor_seq": row.get("last_visitor_seq", 0),
        "last_agent_seq": row.get("last_agent_seq", 0),
        "last_preview": row.get("last_preview", ""),
        **({"tags": row["tags"] or []} if "tags" in row else {}),
        # where the contact came from when it started (a link's ?ref=, a campaign)
        **({"ref": refs.word(row["ref"])} if row.get("ref") else {}),
    }
