"""Proactive messages in the database: editing, the status machine, deliveries and counters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.bots.store import answers
from server.channels.store import channels, site_channels
from server.errors import InvalidInput, NotFound, ParleyError
from server.ids import iso, new_id, utcnow
from server.proactive import rules
from server.proactive.models import ProactiveDelivery, ProactiveMessage
from server.sites.models import Site
from server.sites.store import site_by_id, update_settings
from server.tracking.models import Visit

messages = ProactiveMessage.__table__  # type: ignore[attr-defined]
deliveries = ProactiveDelivery.__table__  # type: ignore[attr-defined]
visits = Visit.__table__  # type: ignore[attr-defined]

# Which actions each status offers (the admin page's options menu shows exactly these).
ACTIONS: dict[str, tuple[str, ...]] = {
    "draft": ("edit", "clone", "publish", "delete"),
    "live": ("edit", "clone", "pause", "delete"),
    "paused": ("edit", "clone", "resume", "delete"),
    "error": ("edit", "delete"),
}
STATUS_LABELS = {"draft": "Draft", "live": "Live", "paused": "Paused", "error": "Has errors"}
EDITABLE = (
    "name",
    "channel_id",
    "response",
    "text",
    "collect",
    "followup",
    "bot_answer_id",
    "tags",
    "trigger",
    "conditions",
    "schedule",
    "frequency",
    "priority",
)
# Emoji and pictographs: agent-type texts are plain (the seed: "sem emojis").
_EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\ufe0f]")
_TAG = re.compile(r"^[\w][\w .:-]{0,39}$")


class TransitionRefused(ParleyError):
    code = "invalid_transition"
    http_status = 409


def _invalid(field: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{field}: {problem}", code="invalid_message", field=field)


# -- messages ----------------------------------------------------------------------------


def message(conn: Connection, message_id: str, site_id: str | None = None) -> ProactiveMessage:
    query = select(messages).where(messages.c.id == message_id)
    if site_id is not None:
        query = query.where(messages.c.site_id == site_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no proactive message {message_id!r}", code="message_not_found")
    return ProactiveMessage.model_validate(dict(row))


def site_messages(conn: Connection, site_id: str) -> list[ProactiveMessage]:
    rows = conn.execute(select(messages).where(messages.c.site_id == site_id)).mappings()
    return [ProactiveMessage.model_validate(dict(r)) for r in rows]


def live_messages(conn: Connection) -> list[ProactiveMessage]:
    rows = conn.execute(select(messages).where(messages.c.status == "live")).mappings()
    return [ProactiveMessage.model_validate(dict(r)) for r in rows]


def checked(data: dict[str, Any]) -> dict[str, Any]:
    """The editable fields of a message, each checked; InvalidInput names the first bad one."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise _invalid(sorted(unknown)[0], "not a field of a proactive message")
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key] = _check(key, value)
    return out


def _check(key: str, value: Any) -> Any:
    if key == "name":
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
            raise _invalid("name", "1 to 100 characters")
        return value.strip()
    if key in ("text", "followup"):
        if not isinstance(value, str) or len(value) > 280:
            raise _invalid(key, "at most 280 characters")
        return value.strip()
    if key in ("channel_id", "bot_answer_id"):
        if value is not None and not isinstance(value, str):
            raise _invalid(key, "an id or null")
        return value or None
    if key == "response":
        if value not in ("agent", "bot"):
            raise _invalid("response", "'agent' or 'bot'")
        return value
    if key == "collect":
        if not isinstance(value, list) or set(value) - {"name", "email"} or len(set(value)) != len(value):
            raise _invalid("collect", "a list of 'name' and/or 'email'")
        return [v for v in ("name", "email") if v in value]
    if key == "tags":
        if (
            not isinstance(value, list)
            or len(value) > 10
            or not all(isinstance(t, str) and _TAG.match(t) for t in value)
        ):
            raise _invalid("tags", "up to 10 tags of 1-40 letters, digits, spaces, '.', ':', '-' or '_'")
        return list(dict.fromkeys(value))
    if key == "trigger":
        return rules.validate_trigger(value)
    if key == "conditions":
        return rules.validate_conditions(value)
    if key == "schedule":
        if value not in rules.SCHEDULES:
            raise _invalid("schedule", f"one of {', '.join(rules.SCHEDULES)}")
        return value
    if key == "frequency":
        if value not in rules.FREQUENCIES:
            raise _invalid("frequency", f"one of {', '.join(rules.FREQUENCIES)}")
        return value
    if key == "priority":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            raise _invalid("priority", "a whole number from 1 (first) to 100")
        return value
    raise _invalid(key, "not editable")


def problem(conn: Connection, msg: ProactiveMessage) -> str | None:
    """Why this message cannot be live, or None."""
    if not msg.channel_id:
        return "choose a channel"
    row = conn.execute(select(channels).where(channels.c.id == msg.channel_id)).mappings().first()
    if row is None or row["site_id"] != msg.site_id:
        return "its channel no longer exists"
    if not row["enabled"]:
        return f"the channel {row['name']!r} is disabled"
    if not msg.text:
        return "write the message's text"
    if msg.response == "agent" and _EMOJI.search(msg.text):
        return "an agent message's text cannot contain emoji"
    if msg.response == "bot":
        if not msg.bot_answer_id:
            return "choose the bot answer to start"
        found = conn.execute(select(answers).where(answers.c.id == msg.bot_answer_id)).mappings().first()
        if found is None or found["site_id"] != msg.site_id:
            return "its bot answer no longer exists"
        if not found["published"]:
            return f"the bot answer {found['name']!r} is not published"
    if not msg.trigger:
        return "choose when it triggers"
    return None


def stop_dependents(
    conn: Connection, *, reason: str, channel_id: str | None = None, answer_id: str | None = None
) -> list[str]:
    """Live and paused messages that go through a channel, or start a bot answer, that just
    went away stop, with the reason; returns their ids."""
    where = messages.c.channel_id == channel_id if channel_id else messages.c.bot_answer_id == answer_id
    ids = [
        r[0]
        for r in conn.execute(
            select(messages.c.id).where(where, messages.c.status.in_(("live", "paused")))
        ).all()
    ]
    if ids:
        conn.execute(
            update(messages)
            .where(messages.c.id.in_(ids))
            .values(status="error", error_reason=reason[:300], updated_at=utcnow())
        )
    return ids


def create_message(conn: Connection, site_id: str, data: dict[str, Any]) -> ProactiveMessage:
    values = checked(data)
    if "name" not in values:
        raise _invalid("name", "a message needs a name")
    msg = ProactiveMessage(site_id=site_id, **{"trigger": {"type": "page_load"}, **values})
    conn.execute(insert(messages).values(msg.model_dump()))
    return msg


def edit_message(conn: Connection, message_id: str, site_id: str, data: dict[str, Any]) -> ProactiveMessage:
    msg = message(conn, message_id, site_id)
    values = checked(data)
    edited = msg.model_copy(update=values)
    changes: dict[str, Any] = {**values, "updated_at": utcnow()}
    if msg.status in ("live", "paused"):
        why = problem(conn, edited)
        if why:
            raise TransitionRefused(f"this change would stop the message: {why}", code="cannot_publish")
    elif msg.status == "error" and problem(conn, edited) is None:
        changes.update(status="draft", error_reason=None)  # fixed: publish it again when ready
    conn.execute(update(messages).where(messages.c.id == msg.id).values(**changes))
    return edited.model_copy(update=changes)


def act(conn: Connection, message_id: str, site_id: str, action: str) -> ProactiveMessage | None:
    """clone, publish, pause, resume or delete; refused with the reason when the status forbids it."""
    msg = message(conn, message_id, site_id)
    if action not in ACTIONS.get(msg.status, ()):
        allowed = ", ".join(a for a in ACTIONS[msg.status] if a != "edit")
        raise TransitionRefused(
            f"a {STATUS_LABELS[msg.status].lower()} message cannot be {_done(action)}; it can: {allowed}",
            allowed=list(ACTIONS[msg.status]),
            status=msg.status,
        )
    now = utcnow()
    if action == "delete":
        conn.execute(delete(deliveries).where(deliveries.c.message_id == msg.id))
        conn.execute(delete(messages).where(messages.c.id == msg.id))
        return None
    if action == "clone":
        copy = msg.model_copy(
            update={
                "id": new_id("pro"),
                "name": f"Copy of {msg.name}"[:100],
                "status": "draft",
                "error_reason": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        conn.execute(insert(messages).values(copy.model_dump()))
        return copy
    if action in ("publish", "resume"):
        why = problem(conn, msg)
        if why:
            raise TransitionRefused(f"it cannot go live: {why}", code="cannot_publish")
    status = {"publish": "live", "resume": "live", "pause": "paused"}[action]
    conn.execute(update(messages).where(messages.c.id == msg.id).values(status=status, updated_at=now))
    return msg.model_copy(update={"status": status, "updated_at": now})


def _done(action: str) -> str:
    return {"publish": "published", "pause": "paused", "resume": "resumed", "clone": "cloned"}.get(
        action, action
    )


PREDEFINED: tuple[dict[str, Any], ...] = (
    {
        "name": "Welcome on the pricing page",
        "text": "Questions about our plans? We are here to help.",
        "collect": ["email"],
        "followup": "Thanks! Someone from our team will answer here shortly.",
        "tags": ["pricing"],
        "trigger": {"type": "time_on_page", "seconds": 10},
        "conditions": {"all": [{"field": "page.path", "op": "starts_with", "value": "/pricing"}]},
        "frequency": "once_per_visit",
    },
    {
        "name": "Help after a minute on checkout",
        "text": "Need a hand with your order?",
        "collect": ["name"],
        "followup": "Thanks, an agent will join you in a moment.",
        "tags": ["checkout"],
        "trigger": {"type": "time_on_page", "seconds": 60},
        "conditions": {"all": [{"field": "page.path", "op": "contains", "value": "checkout"}]},
        "frequency": "once_per_visit",
        "priority": 5,
    },
    {
        "name": "Greeting for returning visitors",
        "text": "Welcome back! Anything we can help you with today?",
        "trigger": {"type": "page_load"},
        "conditions": {"all": [{"field": "returning", "op": "is", "value": True}]},
        "frequency": "once",
        "priority": 20,
    },
)


def seed_drafts(conn: Connection, site: Site) -> bool:
    """The three predefined drafts, when the site is created (server/onboarding.py)."""
    if site_by_id(conn, site.id).settings.get("proactive_seeded"):
        return False
    web = next((c.id for c in site_channels(conn, site.id) if c.kind == "web"), None)
    for draft in PREDEFINED:
        create_message(conn, site.id, {**draft, "channel_id": web})
    update_settings(conn, site.id, None, {"proactive_seeded": True})
    return True


# -- deliveries and counters ---------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    id: str
    message_id: str
    shown_at: datetime


def deliver(
    conn: Connection,
    *,
    msg: ProactiveMessage,
    visitor_id: str,
    visit_id: str,
    occasion: str,
    cap: int,
) -> Delivery | None:
    """Record one showing, unless frequency or the visitor's cap forbids it (then None).

    The visit's row is locked first, so two tabs on two server processes
    cannot both take the last place under the cap.
    """
    conn.execute(select(visits.c.id).where(visits.c.id == visit_id).with_for_update()).first()
    key = {
        "once": f"{msg.id}:{visitor_id}",
        "once_per_visit": f"{msg.id}:{visitor_id}:{visit_id}",
        "every_time": f"{msg.id}:{visitor_id}:{visit_id}:{occasion}",
    }[msg.frequency]
    if conn.execute(select(deliveries.c.id).where(deliveries.c.dedupe_key == key)).first() is not None:
        return None
    shown = conn.execute(
        select(func.count()).select_from(deliveries).where(deliveries.c.visit_id == visit_id)
    ).scalar_one()
    if shown >= cap:
        return None
    delivery = ProactiveDelivery(
        message_id=msg.id, site_id=msg.site_id, visitor_id=visitor_id, visit_id=visit_id, dedupe_key=key
    )
    try:
        with conn.begin_nested():
            conn.execute(insert(deliveries).values(delivery.model_dump()))
    except IntegrityError:
        return None  # another process showed it first
    return Delivery(delivery.id, msg.id, delivery.shown_at)


def delivery_of(conn: Connection, delivery_id: str, visitor_id: str) -> dict[str, Any]:
    row = (
        conn.execute(
            select(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.visitor_id == visitor_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no delivery {delivery_id!r}", code="delivery_not_found")
    return dict(row)


def mark(conn: Connection, delivery_id: str, visitor_id: str, column: str, **extra: Any) -> bool:
    """Set opened_at, dismissed_at or replied_at once; False when it was set before."""
    delivery_of(conn, delivery_id, visitor_id)
    done = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c[column].is_(None))
        .values({column: utcnow(), **extra})
    )
    return bool(done.rowcount)


def answered_in(conn: Connection, delivery_id: str, conversation_id: str) -> None:
    """The conversation the delivery's first answer opened (or reopened)."""
    conn.execute(
        update(deliveries).where(deliveries.c.id == delivery_id).values(conversation_id=conversation_id)
    )


def shown_this_visit(conn: Connection, visit_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.visit_id == visit_id)
        ).scalar_one()
    )


def frequency_allows(
    conn: Connection, msg: ProactiveMessage, visitor_id: str, visit_id: str
) -> tuple[bool, str]:
    """For the why-view: would frequency let this message show again, and why."""
    if msg.frequency == "every_time":
        return True, "every time: shows whenever its conditions are met"
    query = (
        select(func.count())
        .select_from(deliveries)
        .where(deliveries.c.message_id == msg.id, deliveries.c.visitor_id == visitor_id)
    )
    if msg.frequency == "once_per_visit":
        query = query.where(deliveries.c.visit_id == visit_id)
    seen = conn.execute(query).scalar_one()
    label = "once" if msg.frequency == "once" else "once per visit"
    if seen:
        return False, f"{label}: already shown to this visitor" + (
            " in this visit" if msg.frequency != "once" else ""
        )
    return True, f"{label}: not shown yet"


def counters(conn: Connection, site_id: str) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        select(
            deliveries.c.message_id,
            func.count(),
            func.count(deliveries.c.opened_at),
            func.count(deliveries.c.replied_at),
            func.count(deliveries.c.conversation_id),
        )
        .where(deliveries.c.site_id == site_id)
        .group_by(deliveries.c.message_id)
    ).all()
    return {r[0]: {"sent": r[1], "opened": r[2], "replied": r[3], "conversations": r[4]} for r in rows}


def daily(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    """Counters per day the message was shown (UTC)."""
    day = func.date(deliveries.c.shown_at)
    rows = conn.execute(
        select(
            day,
            func.count(),
            func.count(deliveries.c.opened_at),
            func.count(deliveries.c.replied_at),
            func.count(deliveries.c.conversation_id),
        )
        .where(deliveries.c.message_id == message_id)
        .group_by(day)
        .order_by(day)
    ).all()
    return [
        {"day": str(r[0]), "sent": r[1], "opened": r[2], "replied": r[3], "conversations": r[4]} for r in rows
    ]


def public(msg: ProactiveMessage, counts: dict[str, int] | None = None) -> dict[str, Any]:
    data = msg.model_dump()
    data.update(
        created_at=iso(msg.created_at),
        updated_at=iso(msg.updated_at),
        actions=list(ACTIONS[msg.status]),
        counters=counts or {"sent": 0, "opened": 0, "replied": 0, "conversations": 0},
        summary=rules.describe(msg.conditions),
    )
    return data
