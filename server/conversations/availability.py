"""Who answers and how soon: the widget header's team faces and expected reply time.

Public (the widget's config is): first names and avatars of the people who answer
conversations, never their emails; the reply time comes from business hours and from
whether anyone is online now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from server.accounts.access import sections_of
from server.accounts.store import list_users
from server.conversations.workflow import online
from server.sites.hours import Hours
from server.sites.models import Site

FACES = 3


def team_card(conn: Connection, site: Site, now: datetime) -> dict[str, Any]:
    """``{"team": [{"name", "avatar_url"}…], "reply": {"in": "minutes" | "hours" | "later", "at"?}}``."""
    present = online(conn)
    people = [u for u in list_users(conn) if u.is_active and "conversations" in sections_of(u)]
    people.sort(key=lambda u: (present.get(u.id, 0) == 0, u.name))
    team = [{"name": u.name.split()[0] if u.name.strip() else "", "avatar_url": u.avatar_url} for u in people]
    hours = Hours.parse((site.settings.get("proactive") or {}).get("business_hours"))
    reply: dict[str, Any] = {"in": "minutes" if any(present.get(u.id) for u in people) else "hours"}
    if hours.weekly and not hours.open_at(now):
        opens = hours.next_open(now)
        reply = {"in": "later", "at": opens.isoformat()} if opens else {"in": "hours"}
    return {"team": team[:FACES], "reply": reply}
