"""A site's inbox policy: greeting and away messages, routing, closing logic, history cap.

Stored in ``site.settings["inbox"]``; business hours are the site's one plan,
``site.settings["proactive"]["business_hours"]``, shared with proactive messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, insert, or_, select, update

from server.accounts.models import AgentPresence, User, UserChannel
from server.conversations.models import Conversation
from server.errors import InvalidInput
from server.ids import utcnow
from server.sites.hours import Hours
from server.sites.models import Site

ROUTING = ("none", "round_robin", "least_busy")
CLOSING = ("keep", "drop")
MAX_TEXT = 1000
# An agent's workspace refreshes its presence row this often; routing trusts a row this long.
PRESENCE_REFRESH_S = 30
PRESENCE_TTL_S = 90

sites = Site.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
presence = AgentPresence.__table__  # type: ignore[attr-defined]
grants = UserChannel.__table__  # type: ignore[attr-defined]
conversations = Conversation.__table__  # type: ignore[attr-defined]

DEFAULTS: dict[str, Any] = {
    "greeting": "",
    "away": "",
    "routing": "none",
    "closing": "keep",
    "history_cap": None,
    # Bot answers (ids) that replace the greeting or the away message: a survey, an email for later.
    "greeting_bot": None,
    "away_bot": None,
}


@dataclass(frozen=True)
class Policy:
    greeting: str
    away: str
    routing: str
    closing: str
    history_cap: int | None
    greeting_bot: str | None
    away_bot: str | None
    hours: Hours
    has_hours: bool


def settings_of(site_settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(site_settings.get("inbox") or {})}


def policy_of(site_settings: dict[str, Any]) -> Policy:
    inbox = settings_of(site_settings)
    raw_hours = (site_settings.get("proactive") or {}).get("business_hours")
    return Policy(
        greeting=inbox["greeting"],
        away=inbox["away"],
        routing=inbox["routing"],
        closing=inbox["closing"],
        history_cap=inbox["history_cap"],
        greeting_bot=inbox["greeting_bot"],
        away_bot=inbox["away_bot"],
        hours=Hours.parse(raw_hours),
        has_hours=bool(raw_hours and raw_hours.get("weekly")),
    )


def site_policy(conn: Connection, site_id: str) -> Policy:
    settings = conn.execute(select(sites.c.settings).where(sites.c.id == site_id)).scalar_one()
    return policy_of(settings or {})


def validate(changes: Any) -> dict[str, Any]:
    """An admin's PATCH of the inbox settings, refused field by field (422 invalid_setting)."""
    if not isinstance(changes, dict):
        raise InvalidInput("send a JSON object of inbox settings", code="invalid_setting")
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise InvalidInput(
            f"no inbox setting {unknown[0]!r}; use {', '.join(DEFAULTS)}",
            code="invalid_setting",
            field=unknown[0],
        )
    for key in ("greeting", "away"):
        if key in changes and (not isinstance(changes[key], str) or len(changes[key]) > MAX_TEXT):
            raise InvalidInput(
                f"{key}: text of at most {MAX_TEXT} characters", code="invalid_setting", field=key
            )
    if "routing" in changes and changes["routing"] not in ROUTING:
        raise InvalidInput(f"routing: one of {', '.join(ROUTING)}", code="invalid_setting", field="routing")
    if "closing" in changes and changes["closing"] not in CLOSING:
        raise InvalidInput(
            "closing: keep (the assignee stays) or drop (closing unassigns)",
            code="invalid_setting",
            field="closing",
        )
    cap = changes.get("history_cap")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or not 50 <= cap <= 100_000):
        raise InvalidInput(
            "history_cap: null (keep everything) or a number of messages from 50 to 100000",
            code="invalid_setting",
            field="history_cap",
        )
    for key in ("greeting_bot", "away_bot"):
        value = changes.get(key)
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 40):
            raise InvalidInput(f"{key}: a bot answer's id, or null", code="invalid_setting", field=key)
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()}


def away_text(policy: Policy, moment: datetime) -> str | None:
    """The away message when ``moment`` is outside business hours, with when to expect a reply."""
    if not policy.away or not policy.has_hours or policy.hours.open_at(moment):
        return None
    opening = policy.hours.next_open(moment)
    if opening is None:
        return policy.away
    when = opening.strftime("%A %H:%M") + f" ({policy.hours.timezone})"
    return f"{policy.away}\nWe will reply from {when}."


def pick_agent(conn: Connection, *, channel_id: str | None, routing: str, now: datetime) -> str | None:
    """An online agent who may see the channel: round robin (who waited longest) or least busy."""
    if routing == "none":
        return None
    online = exists().where(
        presence.c.user_id == users.c.id,
        presence.c.sockets > 0,
        presence.c.seen_at >= now - timedelta(seconds=PRESENCE_TTL_S),
    )
    granted = exists().where(grants.c.user_id == users.c.id, grants.c.channel_id == channel_id)
    query = select(users.c.id).where(
        users.c.is_active.is_(True),
        online,
        or_(users.c.role == "admin", users.c.all_channels.is_(True), granted),
    )
    # Never routed first, then whoever was routed to longest ago.
    waited = (users.c.last_routed_at.is_not(None), users.c.last_routed_at, users.c.id)
    if routing == "least_busy":
        load = (
            select(func.count())
            .where(and_(conversations.c.assignee_id == users.c.id, conversations.c.status == "open"))
            .scalar_subquery()
        )
        query = query.order_by(load, *waited)
    else:
        query = query.order_by(*waited)
    picked = conn.execute(query.limit(1)).scalar()
    if picked is not None:
        conn.execute(update(users).where(users.c.id == picked).values(last_routed_at=now))
    return picked


def refresh_presence(conn: Connection, process_id: str, counts: dict[str, int]) -> None:
    """This process's agent sockets per user (0 rows removed), stamped now."""
    now = utcnow()
    conn.execute(delete(presence).where(presence.c.process_id == process_id))
    rows = [
        {"user_id": user_id, "process_id": process_id, "sockets": n, "seen_at": now}
        for user_id, n in counts.items()
        if n > 0
    ]
    if rows:
        conn.execute(insert(presence), rows)


def online(conn: Connection) -> dict[str, int]:
    """Agents' open workspace sockets, per user, across every process (fresh rows only)."""
    fresh = utcnow().timestamp() - PRESENCE_TTL_S
    counts: dict[str, int] = {}
    for row in conn.execute(select(presence.c.user_id, presence.c.sockets, presence.c.seen_at)):
        if row.seen_at.timestamp() >= fresh:
            counts[row.user_id] = counts.get(row.user_id, 0) + row.sockets
    return counts
