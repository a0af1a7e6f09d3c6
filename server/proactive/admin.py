"""What admins change around proactive messages: channels and bot answers.

When a channel is disabled or deleted, or a bot answer unpublished or
deleted, the live and paused messages that depend on it turn to "has
errors" with the reason, in the same transaction; after the commit every
process reloads the site's messages (one ``proactive.changed``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from server.bots import store as bots
from server.bots.models import BotAnswer
from server.channels import store as channels
from server.channels.models import Channel
from server.db import Database
from server.proactive import store
from server.proactive.engine import Engine
from server.proactive.models import ProactiveMessage


async def site_channels(db: Database, site_id: str) -> list[Channel]:
    return await db.read(channels.site_channels, site_id)


async def change_channel(
    db: Database, engine: Engine, channel_id: str, changes: dict[str, Any] | None
) -> list[str]:
    """Change a channel, or delete it (``changes`` None); returns the messages that now have errors."""

    def change(conn: Connection) -> tuple[str, list[str]]:
        site_id = channels.site_of(conn, channel_id)
        if changes is None:
            gone = channels.delete_channel(conn, channel_id, site_id)
            reason = f"the channel {gone.name!r} was deleted"
        else:
            before = channels.update_channel(conn, channel_id, site_id, changes)
            if changes.get("enabled") is not False:
                return site_id, []
            reason = f"the channel {before.name!r} was disabled"
        return site_id, store.stop_dependents(conn, channel_id=channel_id, reason=reason)

    site_id, broken = await db.write(change)
    await engine.changed(site_id)
    return broken


async def create_answer(db: Database, site_id: str, name: str, published: bool) -> BotAnswer:
    return await db.write(lambda c: bots.create_answer(c, site_id, name, published))


async def site_answers(db: Database, site_id: str) -> list[dict[str, Any]]:
    return await db.read(bots.site_answers, site_id)


async def answer_site(db: Database, answer_id: str) -> str:
    return await db.read(bots.site_of, answer_id)


async def answer(db: Database, answer_id: str) -> dict[str, Any]:
    return await db.read(bots.answer_public, answer_id)


async def change_answer(
    db: Database, engine: Engine, answer_id: str, changes: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """Save a bot answer's ``flow``, ``name``, ``bot_name`` or ``published``, or delete it
    (``changes`` None); returns the answer as it is now and the messages that now have errors."""

    def change(conn: Connection) -> tuple[str, dict[str, Any] | None, list[str]]:
        site_id = bots.site_of(conn, answer_id)
        broken: list[str] = []
        if changes is None:
            gone = bots.delete_answer(conn, answer_id, site_id)
            reason = f"the bot answer {gone.name!r} was deleted"
            return site_id, None, store.stop_dependents(conn, answer_id=answer_id, reason=reason)
        bots.save_draft(conn, answer_id, site_id, changes)
        if changes.get("published") is True:  # the draft, validated, becomes the next version
            bots.publish(conn, answer_id, site_id)
        elif changes.get("published") is False:
            before = bots.unpublish(conn, answer_id, site_id)
            reason = f"the bot answer {before.name!r} was unpublished"
            broken = store.stop_dependents(conn, answer_id=answer_id, reason=reason)
        return site_id, bots.answer_public(conn, answer_id), broken

    site_id, now, broken = await db.write(change)
    await engine.changed(site_id)
    return now, broken


async def create_message(db: Database, site_id: str, data: dict[str, Any]) -> ProactiveMessage:
    """A new draft (a draft goes nowhere, so nothing is published)."""
    return await db.write(lambda c: store.create_message(c, site_id, data))


async def create_web_draft(db: Database, site_id: str, name: str) -> ProactiveMessage:
    """A new draft on the site's web channel."""

    def make(conn: Connection) -> ProactiveMessage:
        web = next((c.id for c in channels.site_channels(conn, site_id) if c.kind == "web"), None)
        return store.create_message(conn, site_id, {"name": name, "channel_id": web})

    return await db.write(make)


async def edit_message(
    db: Database, engine: Engine, message_id: str, site_id: str, data: dict[str, Any]
) -> ProactiveMessage:
    edited = await db.write(lambda c: store.edit_message(c, message_id, site_id, data))
    await engine.changed(site_id)
    return edited


async def act(
    db: Database, engine: Engine, message_id: str, site_id: str, action: str
) -> ProactiveMessage | None:
    """clone, publish, pause, resume or delete (store.act says when each is refused)."""
    result = await db.write(lambda c: store.act(c, message_id, site_id, action))
    await engine.changed(site_id)
    return result
