"""What a visitor does with a proactive message: open it, dismiss it, answer it.

Answering is one transaction and one publish: the details given (or the
visitor's first message), the conversation opened with the message's text,
its follow-up, and the delivery counted as replied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from server.channels.models import Channel
from server.channels.store import site_channels
from server.contacts import book
from server.contacts import store as contacts
from server.contacts.book import Actor
from server.conversations import actions as conversations
from server.conversations import merge
from server.conversations import store as conversation_store
from server.conversations.events import Author, Change
from server.db import Database
from server.errors import InvalidInput
from server.proactive import store
from server.proactive.models import ProactiveMessage
from server.realtime.bus import Bus


async def seen(db: Database, visitor_id: str, delivery_id: str, column: str) -> bool:
    return bool(await db.write(lambda c: store.mark(c, delivery_id, visitor_id, column)))


@dataclass(frozen=True)
class Answered:
    """The delivery being answered, its message and the channel it went out on."""

    delivery: dict[str, Any]
    msg: ProactiveMessage
    channel: Channel | None
    site_id: str
    site_name: str
    visitor_id: str

    @property
    def sender(self) -> Author:
        chan = self.channel
        name = (chan.sender_name if chan is not None else "") or self.site_name
        return Author("system", None, name, chan.sender_avatar_url if chan is not None else None)

    def open(self, conn: Connection, texts: list[str], *, bot_now: bool = False) -> Change:
        """The conversation opened with the message (``texts``), its tags, and its bot answer
        (at once after details, or at the visitor's first message); the delivery counts as
        opened and replied. Only the first answer to a delivery adds the texts: marking it
        replied is an UPDATE … WHERE replied_at IS NULL, which a concurrent answer waits for."""
        msg = self.msg
        first = store.mark(conn, self.delivery["id"], self.visitor_id, "replied_at")
        change = conversation_store.start_from_proactive(
            conn,
            site_id=self.site_id,
            visitor_id=self.visitor_id,
            delivery_id=self.delivery["id"],
            sender=self.sender,
            texts=texts if first else [],
            tags=msg.tags,
            channel_kind=self.channel.kind if self.channel is not None else "web",
            bot_answer_id=msg.bot_answer_id if first and msg.response == "bot" else None,
            bot_now=bot_now,
        )
        if first:
            store.answered_in(conn, self.delivery["id"], change.conversation["id"])
        if msg.tags:
            book.tag_by_automation(conn, self.visitor_id, msg.tags, Actor("proactive", msg.id, msg.name))
        store.mark(conn, self.delivery["id"], self.visitor_id, "opened_at")
        return change

    def follow_up(self, conn: Connection) -> Change:
        """The message's follow-up, after the visitor's first words."""
        return conversation_store.start_from_proactive(
            conn,
            site_id=self.site_id,
            visitor_id=self.visitor_id,
            delivery_id=self.delivery["id"],
            sender=self.sender,
            texts=[self.msg.followup],
            tags=[],
            channel_kind=self.channel.kind if self.channel is not None else "web",
        )


def _answered(conn: Connection, site_id: str, site_name: str, visitor_id: str, delivery_id: str) -> Answered:
    delivery = store.delivery_of(conn, delivery_id, visitor_id)
    msg = store.message(conn, delivery["message_id"])
    chan = next((ch for ch in site_channels(conn, msg.site_id) if ch.id == msg.channel_id), None)
    return Answered(delivery, msg, chan, site_id, site_name, visitor_id)


async def reply(
    db: Database,
    bus: Bus,
    *,
    site_id: str,
    site_name: str,
    visitor_id: str,
    delivery_id: str,
    name: str | None,
    email: str | None,
) -> dict[str, Any]:
    """The visitor gave the details the message asked for: keep them, open the
    conversation with the message and its follow-up, and count a reply."""

    def step(conn: Connection) -> tuple[dict[str, Any], list[Change]]:
        answered = _answered(conn, site_id, site_name, visitor_id, delivery_id)
        asks = answered.msg.asks_for
        if "name" in asks and not (name or "").strip():
            raise InvalidInput("please tell us your name", code="name_required", delivery_id=delivery_id)
        if "email" in asks:
            try:
                contacts.check_email(email or "")
            except InvalidInput as exc:  # name the delivery, so the widget asks again in place
                raise InvalidInput(exc.message, code=exc.code, delivery_id=delivery_id) from None
        _, moved = merge.identify(
            conn,
            visitor_id=visitor_id,
            user_id=None,
            name=name if "name" in asks else None,
            email=email if "email" in asks else None,
            verified=False,
        )
        opened = answered.open(conn, [answered.msg.text, answered.msg.followup], bot_now=True)
        done = {
            "type": "proactive.replied",
            "delivery_id": delivery_id,
            "conversation_id": opened.conversation["id"],
        }
        return done, [*moved, opened]

    return await conversations.run(db, bus, step)


async def first_message(
    db: Database,
    bus: Bus,
    *,
    site_id: str,
    site_name: str,
    delivery_id: str,
    author: Author,
    client_id: str,
    text: str,
    attachment_ids: list[str] | None,
) -> dict[str, Any]:
    """The visitor writes in answer to a message that asked for nothing: the conversation
    starts with the message, then the visitor's words, then the follow-up; returns the ack.
    A repeat of the visitor's message (same client id) adds nothing."""
    assert author.id is not None

    def step(conn: Connection) -> tuple[dict[str, Any], list[Change]]:
        answered = _answered(conn, site_id, site_name, author.id or "", delivery_id)
        if answered.msg.asks_for and answered.delivery["replied_at"] is None:
            raise InvalidInput(
                f"this message asks for {' and '.join(answered.msg.asks_for)} first",
                code="details_required",
                delivery_id=delivery_id,
            )
        opened = answered.open(conn, [answered.msg.text])
        sent = conversation_store.post_message(
            conn,
            author=author,
            client_id=client_id,
            text=text,
            conversation_id=opened.conversation["id"],
            visitor_id=author.id,
            attachment_ids=attachment_ids,
        )
        assert sent.ack is not None
        changes = [opened, sent]
        if answered.msg.followup and not sent.ack["duplicate"]:
            changes.append(answered.follow_up(conn))
        return sent.ack, changes

    return await conversations.run(db, bus, step)
