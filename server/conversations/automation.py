"""What happens without an agent: greeting and away messages, routing, and bots' turns.

Each function runs inside the transaction of the store function that calls it,
appending to the same ``Appender``, so these events follow the visitor's
message in sequence and commit with it.

Bots live above conversations (server/bots/automation.py): they register their
turns here with ``use_bots`` when the services are built, and conversations
calls them through ``bots()`` without importing them.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection, select, update

from server.conversations import workflow
from server.conversations.events import Appender, Author, status_data
from server.conversations.models import Conversation
from server.ids import new_id

conversations = Conversation.__table__  # type: ignore[attr-defined]

ROUTING = Author("system", None, "Routing")


class Bots(Protocol):
    """Bot turns that run inside a conversation's transaction."""

    def start(self, appender: Appender, conn: Connection, answer_id: str, *, now: bool) -> bool:
        """Start a published answer: at once, or at the visitor's next message; False: gone."""

    def turn(self, appender: Appender, conn: Connection, text: str | None, *, woke: bool = False) -> bool:
        """The bot's answer to a visitor's message (or to its wait ending); False: no bot here."""

    def running(self, conn: Connection, conversation_id: str) -> bool:
        """Whether a bot is active in the conversation."""

    def stop(self, conn: Connection, conversation_id: str) -> None:
        """A person took over: the bot says no more."""


class NoBots:
    """Before bots register (a process that runs no bots): nothing starts, nothing answers."""

    def start(self, appender: Appender, conn: Connection, answer_id: str, *, now: bool) -> bool:
        return False

    def turn(self, appender: Appender, conn: Connection, text: str | None, *, woke: bool = False) -> bool:
        return False

    def running(self, conn: Connection, conversation_id: str) -> bool:
        return False

    def stop(self, conn: Connection, conversation_id: str) -> None:
        return None


_bots: Bots = NoBots()


def use_bots(found: Bots) -> None:
    global _bots
    _bots = found


def bots() -> Bots:
    return _bots


def system_message(appender: Appender, text: str, kind: str) -> None:
    message = {
        "id": new_id("msg"),
        "author_type": "system",
        "author_id": None,
        "client_id": f"{kind}.{appender.state['last_seq'] + 1}",
        "text": text,
    }
    appender.append("message.created", {"author_name": None, "kind": kind}, message)


def arrival(appender: Appender, conn: Connection, *, greet: bool) -> None:
    """A conversation a visitor just started or reopened: a greeting (text or bot),
    an away message (text or bot) outside business hours, then routing."""
    policy = workflow.site_policy(conn, appender.state["site_id"])
    outside = policy.has_hours and not policy.hours.open_at(appender.now)
    if outside and policy.away_bot and _bots.start(appender, conn, policy.away_bot, now=True):
        return
    if greet and policy.greeting_bot and _bots.start(appender, conn, policy.greeting_bot, now=True):
        return
    if greet and policy.greeting:
        system_message(appender, policy.greeting, "greeting")
    away = workflow.away_text(policy, appender.now)
    if away:
        system_message(appender, away, "away")
    route(appender, conn, policy.routing)


def route(appender: Appender, conn: Connection, routing: str) -> None:
    if appender.state["assignee_id"] is None:
        picked = workflow.pick_agent(
            conn, channel_id=appender.state["channel_id"], routing=routing, now=appender.now
        )
        if picked is not None:
            appender.set(assignee_id=picked)
            appender.append("conversation.updated", status_data(appender.state, ROUTING))


def add_tags(conn: Connection, conversation_id: str, tags: list[str]) -> list[str]:
    """The conversation's tags with these added (in order, once each)."""
    current = conn.execute(
        select(conversations.c.tags).where(conversations.c.id == conversation_id)
    ).scalar_one()
    merged = list(dict.fromkeys([*(current or []), *tags]))
    if merged != (current or []):
        conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(tags=merged))
    return merged


def tags_of(conn: Connection, conversation_id: str) -> list[str]:
    found = conn.execute(select(conversations.c.tags).where(conversations.c.id == conversation_id)).scalar()
    return list(found or [])


def move_channel(appender: Appender, conn: Connection, channel_id: str) -> None:
    """A handoff to another channel's agents."""
    conn.execute(
        update(conversations).where(conversations.c.id == appender.state["id"]).values(channel_id=channel_id)
    )
    appender.state["channel_id"] = channel_id
