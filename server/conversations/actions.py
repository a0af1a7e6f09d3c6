"""Conversation actions: validate, commit one transaction, then publish.

Store functions change the database and return a ``Change`` (the
conversation and the frames to publish); an action runs one or more of them
in one ``db.write`` and publishes after the commit, one envelope per
conversation (``run``). Sockets learn of a change only from the bus, so one
process and ten behave the same; the acting socket gets its ack from the
return value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from server.accounts.access import Access
from server.contacts import store as contacts
from server.conversations import store
from server.conversations.events import Author, Change
from server.db import Database
from server.errors import Forbidden, InvalidInput, NotFound
from server.realtime import envelopes
from server.realtime.bus import Bus
from server.realtime.outbox import Done, commit

log = logging.getLogger(__name__)


async def _one(db: Database, bus: Bus, fn: Any, **kwargs: Any) -> Change:
    """One store step as an action: commit (once more after a write conflict), then publish."""

    def step(conn: Connection) -> Done[Change]:
        change = fn(conn, **kwargs)
        return Done(change, published([change]))

    return await commit(db, bus, step, retry_on=(IntegrityError,))


def combined(changes: Iterable[Change]) -> list[Change]:
    """Several steps' changes as one per conversation: the frames in order, the last summary."""
    by_id: dict[str, Change] = {}
    for change in changes:
        cid = change.conversation["id"]
        if cid in by_id:
            by_id[cid] = Change(change.conversation, [*by_id[cid].frames, *change.frames], change.ack)
        else:
            by_id[cid] = change
    return list(by_id.values())


T = TypeVar("T")


def published(changes: Iterable[Change]) -> list[envelopes.Envelope]:
    """The envelopes of several steps' changes: one per conversation that has frames."""
    return [envelopes.events(c.conversation, c.frames) for c in combined(changes) if c.frames]


async def run(db: Database, bus: Bus, step: Callable[[Connection], tuple[T, list[Change]]]) -> T:
    """Run a composed step in one transaction (once more after a write conflict: two
    processes raced on a client id or a conversation), then publish what it changed:
    one envelope per conversation."""

    def composed(conn: Connection) -> Done[T]:
        result, changes = step(conn)
        return Done(result, published(changes))

    return await commit(db, bus, composed, retry_on=(IntegrityError,))


def check_text(text: str, max_chars: int) -> None:
    if not text.strip():
        raise InvalidInput("the message is empty", code="message_empty")
    if len(text) > max_chars:
        raise InvalidInput(
            f"the message has {len(text)} characters; the limit is {max_chars}",
            code="message_too_long",
            limit=max_chars,
            length=len(text),
        )


async def send_message(
    db: Database,
    bus: Bus,
    *,
    author: Author,
    client_id: str,
    text: str,
    conversation_id: str | None,
    max_chars: int,
    site_id: str | None = None,
    visitor_id: str | None = None,
    channel_kind: str = "web",
    attachment_ids: list[str] | None = None,
) -> dict[str, Any]:
    if text.strip() or not attachment_ids:  # a file alone needs no words
        check_text(text, max_chars)
    change = await _one(
        db,
        bus,
        store.post_message,
        author=author,
        client_id=client_id,
        text=text,
        conversation_id=conversation_id,
        site_id=site_id,
        visitor_id=visitor_id,
        channel_kind=channel_kind,
        attachment_ids=attachment_ids,
    )
    assert change.ack is not None
    return change.ack


async def start_chat(
    db: Database,
    bus: Bus,
    *,
    access: Access,
    site_id: str,
    visitor_id: str | None,
    upsert: Callable[[Connection], str] | None = None,
    channel_kind: str | None,
    client_id: str,
    text: str,
    max_chars: int,
) -> dict[str, Any]:
    """ "+ Chat": an agent writes to a contact first. The contact's open conversation is
    used, else its latest on the channel is reopened, else one is started; the agent
    takes it. Idempotent by client id: a repeat returns the first ack and stores nothing.
    ``upsert`` (the API's "upsert and send") finds or adds the contact in the same
    transaction and returns its id."""
    check_text(text, max_chars)
    author = Author("agent", access.user.id, access.user.name, access.user.avatar_url)

    def step(conn: Connection) -> tuple[dict[str, Any], list[Change]]:
        contact = upsert(conn) if upsert is not None else visitor_id
        assert contact is not None
        if contacts.visitor(conn, contact).site_id != site_id:
            raise NotFound(f"no contact {contact!r} on this site", code="visitor_not_found")
        # No channel named: where the contact last talked to us, else the web widget.
        kind = channel_kind or store.latest_channel_kind(conn, contact) or "web"
        channel_id = store.channel_of_kind(conn, site_id, kind)
        if channel_id is None:
            raise InvalidInput(f"the site has no {kind!r} channel", code="channel_unknown", field="channel")
        if not access.sees(channel_id):
            raise Forbidden(
                "you do not have access to this channel", code="channel_forbidden", field="channel"
            )
        change = store.post_message(
            conn,
            author=author,
            client_id=client_id,
            text=text,
            conversation_id=None,
            site_id=site_id,
            visitor_id=contact,
            channel_kind=kind,
        )
        assert change.ack is not None
        return change.ack, [change]

    return await run(db, bus, step)


async def mark_read(
    db: Database,
    bus: Bus,
    *,
    conversation_id: str,
    reader: Author,
    up_to_seq: int,
    visitor_id: str | None = None,
) -> None:
    await _one(
        db,
        bus,
        store.mark_read,
        conversation_id=conversation_id,
        reader=reader,
        up_to_seq=up_to_seq,
        visitor_id=visitor_id,
    )


async def set_status(db: Database, bus: Bus, *, conversation_id: str, status: str, by: Author) -> None:
    await _one(db, bus, store.set_status, conversation_id=conversation_id, status=status, by=by)


async def update(
    db: Database, bus: Bus, *, conversation_id: str, by: Author, **changes: Any
) -> dict[str, Any]:
    """Status, snooze and assignee changes (see store.update_conversation); returns the summary."""
    change = await _one(db, bus, store.update_conversation, conversation_id=conversation_id, by=by, **changes)
    return change.conversation


async def bot_wake(db: Database, bus: Bus, *, conversation_id: str) -> None:
    await _one(db, bus, store.bot_wake, conversation_id=conversation_id)


async def wake(db: Database, bus: Bus, *, conversation_id: str, by: Author) -> None:
    await _one(db, bus, store.wake, conversation_id=conversation_id, by=by)


async def add_note(
    db: Database, bus: Bus, *, author: Author, client_id: str, text: str, conversation_id: str, max_chars: int
) -> dict[str, Any]:
    check_text(text, max_chars)
    change = await _one(
        db,
        bus,
        store.post_note,
        author=author,
        client_id=client_id,
        text=text,
        conversation_id=conversation_id,
    )
    assert change.ack is not None
    return change.ack


async def typing(bus: Bus, *, conversation: dict[str, Any], author: Author, active: bool) -> None:
    """Ephemeral: published, never stored, never replayed."""
    await bus.publish(
        envelopes.typing(
            {
                "id": conversation["id"],
                "visitor_id": conversation["visitor_id"],
                "site_id": conversation["site_id"],
                "channel_id": conversation.get("channel_id"),
            },
            {
                "type": "typing.updated",
                "conversation_id": conversation["id"],
                "author": {"type": author.type, "id": author.id, "name": author.name},
                "active": active,
            },
        )
    )
