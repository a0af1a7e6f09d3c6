"""What a visitor does with a proactive message: open it, dismiss it, answer it."""

from __future__ import annotations

from typing import Any

from server.channels.store import site_channels
from server.contacts import store as contacts
from server.conversations import actions as conversations
from server.conversations.events import Author
from server.errors import InvalidInput
from server.proactive import store
from server.proactive.models import ProactiveMessage
from server.services import Services


async def seen(services: Services, visitor_id: str, delivery_id: str, column: str) -> bool:
    return bool(await services.db.write(lambda c: store.mark(c, delivery_id, visitor_id, column)))


async def _message_of(services: Services, visitor_id: str, delivery_id: str) -> tuple[dict[str, Any], Any]:
    def read(c: Any) -> tuple[dict[str, Any], Any]:
        delivery = store.delivery_of(c, delivery_id, visitor_id)
        msg = store.message(c, delivery["message_id"])
        chan = None
        if msg.channel_id:
            found = [ch for ch in site_channels(c, msg.site_id) if ch.id == msg.channel_id]
            chan = found[0] if found else None
        return delivery, (msg, chan)

    return await services.db.read(read)


def _sender(chan: Any, site_name: str) -> Author:
    name = (chan.sender_name if chan is not None else "") or site_name
    return Author("system", None, name, chan.sender_avatar_url if chan is not None else None)


async def reply(
    services: Services,
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
    _, (msg, chan) = await _message_of(services, visitor_id, delivery_id)
    assert isinstance(msg, ProactiveMessage)
    if "name" in msg.asks_for and not (name or "").strip():
        raise InvalidInput("please tell us your name", code="name_required", delivery_id=delivery_id)
    if "email" in msg.asks_for:
        try:
            contacts.check_email(email or "")
        except InvalidInput as exc:  # name the delivery, so the widget asks again in place
            raise InvalidInput(exc.message, code=exc.code, delivery_id=delivery_id) from None
    await conversations.identify(
        services.db,
        services.bus,
        visitor_id=visitor_id,
        user_id=None,
        name=name if "name" in msg.asks_for else None,
        email=email if "email" in msg.asks_for else None,
        verified=False,
    )
    return await _open(
        services,
        msg,
        chan,
        site_id,
        site_name,
        visitor_id,
        delivery_id,
        [msg.text, msg.followup],
        bot_now=True,
    )


async def _open(
    services: Services,
    msg: ProactiveMessage,
    chan: Any,
    site_id: str,
    site_name: str,
    visitor_id: str,
    delivery_id: str,
    texts: list[str],
    *,
    bot_now: bool = False,
) -> dict[str, Any]:
    """Open the conversation; a bot response starts its answer (at once after a
    reply with details, or at the visitor's first message)."""
    conversation = await conversations.start_from_proactive(
        services.db,
        services.bus,
        site_id=site_id,
        visitor_id=visitor_id,
        delivery_id=delivery_id,
        sender=_sender(chan, site_name),
        texts=texts,
        tags=msg.tags,
        channel_kind=chan.kind if chan is not None else "web",
        bot_answer_id=msg.bot_answer_id if msg.response == "bot" else None,
        bot_now=bot_now,
    )
    cid = conversation["id"]

    def answered(c: Any) -> None:  # a reply is an opening too: one transaction for both
        store.mark(c, delivery_id, visitor_id, "replied_at", conversation_id=cid)
        store.mark(c, delivery_id, visitor_id, "opened_at")

    await services.db.write(answered)
    return {"type": "proactive.replied", "delivery_id": delivery_id, "conversation_id": cid}


async def before_first_message(
    services: Services, *, site_id: str, site_name: str, visitor_id: str, delivery_id: str
) -> tuple[str, str]:
    """The visitor writes in answer to a message that asked for nothing: the
    conversation starts with the message; returns (conversation id, follow-up)."""
    delivery, (msg, chan) = await _message_of(services, visitor_id, delivery_id)
    assert isinstance(msg, ProactiveMessage)
    if msg.asks_for and delivery["replied_at"] is None:
        raise InvalidInput(
            f"this message asks for {' and '.join(msg.asks_for)} first",
            code="details_required",
            delivery_id=delivery_id,
        )
    done = await _open(services, msg, chan, site_id, site_name, visitor_id, delivery_id, [msg.text])
    return done["conversation_id"], msg.followup


async def followup(
    services: Services, *, site_id: str, site_name: str, visitor_id: str, delivery_id: str, text: str
) -> None:
    _, (_, chan) = await _message_of(services, visitor_id, delivery_id)
    await conversations.start_from_proactive(
        services.db,
        services.bus,
        site_id=site_id,
        visitor_id=visitor_id,
        delivery_id=f"{delivery_id}.f",
        sender=_sender(chan, site_name),
        texts=[text],
        tags=[],
        channel_kind=chan.kind if chan is not None else "web",
    )
