"""Channels and bot answers: what proactive messages go through and start.

When one goes away (disabled, deleted, unpublished), the live and paused
messages that depend on it turn to "has errors" with the reason and stop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from server.bots import store as bots
from server.errors import InvalidInput, NotFound
from server.ids import utcnow
from server.proactive.models import BotAnswer, Channel, ProactiveMessage
from server.sites.models import Site

channels = Channel.__table__  # type: ignore[attr-defined]
answers = BotAnswer.__table__  # type: ignore[attr-defined]
messages = ProactiveMessage.__table__  # type: ignore[attr-defined]


def create_channels(conn: Connection, site: Site) -> None:
    """A new site's web widget and mobile SDK channels."""
    for kind, label in (("web", "Web widget"), ("sdk", "Mobile SDK")):
        channel = Channel(site_id=site.id, kind=kind, name=label, sender_name=site.name)
        conn.execute(insert(channels).values(channel.model_dump()))


def site_channels(conn: Connection, site_id: str) -> list[Channel]:
    rows = conn.execute(
        select(channels).where(channels.c.site_id == site_id).order_by(channels.c.kind)
    ).mappings()
    return [Channel.model_validate(dict(r)) for r in rows]


def _of_site(conn: Connection, table: Any, row_id: str, site_id: str, what: str) -> dict[str, Any]:
    row = (
        conn.execute(select(table).where(table.c.id == row_id, table.c.site_id == site_id)).mappings().first()
    )
    if row is None:
        raise NotFound(f"no {what} {row_id!r} on this site", code=f"{what.replace(' ', '_')}_not_found")
    return dict(row)


def channel(conn: Connection, channel_id: str, site_id: str) -> Channel:
    return Channel.model_validate(_of_site(conn, channels, channel_id, site_id, "channel"))


def update_channel(conn: Connection, channel_id: str, site_id: str, changes: dict[str, Any]) -> list[str]:
    """Change a channel; returns the ids of messages that now have errors."""
    found = channel(conn, channel_id, site_id)
    allowed = {"enabled", "sender_name", "sender_avatar_url", "name"}
    if set(changes) - allowed:
        raise InvalidInput(f"a channel has only {', '.join(sorted(allowed))}", code="invalid_input")
    conn.execute(update(channels).where(channels.c.id == found.id).values(**changes))
    if changes.get("enabled") is False:
        return _break(conn, messages.c.channel_id == found.id, f"the channel {found.name!r} was disabled")
    return []


def delete_channel(conn: Connection, channel_id: str, site_id: str) -> list[str]:
    found = channel(conn, channel_id, site_id)
    broken = _break(conn, messages.c.channel_id == found.id, f"the channel {found.name!r} was deleted")
    conn.execute(delete(channels).where(channels.c.id == found.id))
    return broken


def create_answer(conn: Connection, site_id: str, name: str, published: bool = False) -> BotAnswer:
    if not 1 <= len(name.strip()) <= 100:
        raise InvalidInput("name: 1 to 100 characters", code="invalid_message", field="name")
    answer = BotAnswer(site_id=site_id, name=name.strip(), draft=bots.STARTER)
    conn.execute(insert(answers).values(answer.model_dump()))
    if published:
        answer.version = bots.publish(conn, answer.id, site_id)
        answer.published = True
    return answer


def answer(conn: Connection, answer_id: str, site_id: str) -> BotAnswer:
    return BotAnswer.model_validate(_of_site(conn, answers, answer_id, site_id, "bot answer"))


def set_answer_published(conn: Connection, answer_id: str, site_id: str, published: bool) -> list[str]:
    found = answer(conn, answer_id, site_id)
    if published:  # the draft, validated, becomes the next version
        bots.publish(conn, found.id, site_id)
        return []
    conn.execute(update(answers).where(answers.c.id == found.id).values(published=False))
    if not published:
        return _break(
            conn, messages.c.bot_answer_id == found.id, f"the bot answer {found.name!r} was unpublished"
        )
    return []


def delete_answer(conn: Connection, answer_id: str, site_id: str) -> list[str]:
    found = answer(conn, answer_id, site_id)
    broken = _break(conn, messages.c.bot_answer_id == found.id, f"the bot answer {found.name!r} was deleted")
    bots.forget(conn, found.id)
    conn.execute(delete(answers).where(answers.c.id == found.id))
    return broken


def _break(conn: Connection, where: Any, reason: str) -> list[str]:
    """Live and paused messages that depend on what just went away stop, with the reason."""
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
