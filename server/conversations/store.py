"""Conversations in storage: every change appends sequenced events in one transaction.

The sequence counter lives on the conversation row. Each writer locks that row
first (SELECT … FOR UPDATE on PostgreSQL; SQLite has a single writer), so
sequence numbers are gap-free and a client id is checked while no one else
can insert it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from server.accounts.access import access_of
from server.accounts.store import user_by_id
from server.channels.models import Channel
from server.contacts import refs
from server.contacts.store import mark_listed
from server.conversations import attachments, automation, workflow
from server.conversations import statements as sql
from server.conversations.events import (
    Appender,
    Author,
    Change,
    ConversationConflict,
    Row,
    author_data,
    locked,
    status_data,
)
from server.conversations.frames import conversation_summary
from server.conversations.models import STATUSES, Conversation, ConversationEvent, Message
from server.errors import InvalidInput, NotFound
from server.ids import iso, new_id, utcnow

conversations = Conversation.__table__  # type: ignore[attr-defined]
messages = Message.__table__  # type: ignore[attr-defined]
events = ConversationEvent.__table__  # type: ignore[attr-defined]
channels = Channel.__table__  # type: ignore[attr-defined]


def _existing_message(conn: Connection, conversation_id: str, client_id: str) -> Row | None:
    return sql.MESSAGE_BY_CLIENT_ID.first(conn, {"conversation_id": conversation_id, "client_id": client_id})


def _visitor_message_by_client_id(conn: Connection, visitor_id: str, client_id: str) -> Row | None:
    return sql.VISITOR_MESSAGE_BY_CLIENT_ID.first(conn, {"visitor_id": visitor_id, "client_id": client_id})


def _ack(message: dict[str, Any], duplicate: bool) -> dict[str, Any]:
    return {
        "client_id": message["client_id"],
        "conversation_id": message["conversation_id"],
        "message_id": message["id"],
        "seq": message["seq"],
        "created_at": iso(message["created_at"]),
        "duplicate": duplicate,
    }


def _duplicate(existing: Row, author: Author) -> Change:
    if existing["author_type"] != author.type or existing["author_id"] != author.id:
        raise InvalidInput(
            f"client id {existing['client_id']!r} was used by another sender",
            code="client_id_conflict",
        )
    return Change(conversation={"id": existing["conversation_id"]}, ack=_ack(existing, True))


def latest_channel_kind(conn: Connection, visitor_id: str) -> str | None:
    """The channel kind of the visitor's latest conversation, if they have one."""
    return conn.execute(
        select(channels.c.kind)
        .join(conversations, conversations.c.channel_id == channels.c.id)
        .where(conversations.c.visitor_id == visitor_id)
        .order_by(conversations.c.last_activity_at.desc())
        .limit(1)
    ).scalar()


def channel_of_kind(conn: Connection, site_id: str, kind: str) -> str | None:
    """The site's channel of this kind (web, sdk), if it has one."""
    return _channel_id(conn, site_id, kind)


def _channel_id(conn: Connection, site_id: str, kind: str) -> str | None:
    return conn.execute(
        select(channels.c.id).where(channels.c.site_id == site_id, channels.c.kind == kind)
    ).scalar()


def _active_conversation(
    conn: Connection, site_id: str, visitor_id: str, channel_kind: str = "web", *, latest: bool = False
) -> tuple[Row, bool]:
    """The visitor's one non-closed conversation, created (in the channel) if there is none.

    With ``latest``, the visitor's latest closed one on the channel comes before
    a new one: a visitor who writes again reopens it (seed 002), as the widget
    does by naming it.
    """
    active = sql.ACTIVE_CONVERSATION.first(conn, {"visitor_id": visitor_id})
    found = active["id"] if active else None
    if found is None and latest:
        last = sql.LATEST_CONVERSATION.first(
            conn, {"visitor_id": visitor_id, "channel_id": _channel_id(conn, site_id, channel_kind)}
        )
        found = last["id"] if last else None
    if found is not None:
        return locked(conn, found), False
    conversation_id = new_id("cnv")
    now = utcnow()
    try:
        with conn.begin_nested():
            conn.execute(
                insert(conversations).values(
                    id=conversation_id,
                    site_id=site_id,
                    visitor_id=visitor_id,
                    channel_id=_channel_id(conn, site_id, channel_kind),
                    status="open",
                    last_seq=0,
                    visitor_read_seq=0,
                    agent_read_seq=0,
                    created_at=now,
                    last_activity_at=now,
                    tags=[],
                    last_visitor_seq=0,
                    last_agent_seq=0,
                    last_preview="",
                    ref=refs.latest(conn, visitor_id),
                )
            )
        mark_listed(conn, visitor_id)  # who writes is a contact
    except IntegrityError:
        # Another server process created it between our select and insert.
        again = sql.ACTIVE_CONVERSATION.first(conn, {"visitor_id": visitor_id})
        assert again is not None
        found = again["id"]
        return locked(conn, found), False
    return locked(conn, conversation_id), True


def _reopen(appender: Appender, conn: Connection, by: Author) -> None:
    _reopened(appender, conn)
    appender.append("conversation.updated", status_data(appender.state, by))


def _reopened(appender: Appender, conn: Connection) -> None:
    if appender.state["status"] == "closed":
        # This one is closed, so the visitor's active conversation, if any, is another.
        active = sql.ACTIVE_CONVERSATION.first(conn, {"visitor_id": appender.state["visitor_id"]})
        if active is not None:
            other = active["id"]
            raise ConversationConflict(
                f"conversation {appender.state['id']!r} is closed and {other!r} is the visitor's active one",
                active_conversation_id=other,
            )
    appender.set(status="open", closed_at=None, closed_by=None, snoozed_until=None)


def post_message(
    conn: Connection,
    *,
    author: Author,
    client_id: str,
    text: str,
    conversation_id: str | None,
    site_id: str | None = None,
    visitor_id: str | None = None,
    channel_kind: str = "web",
    attachment_ids: list[str] | None = None,
) -> Change:
    """Store a message once per client id; a repeat returns the first ack.

    Without a conversation id, the visitor's open conversation is used, else their latest
    on the channel is reopened, else one is started: a visitor writing, or an agent's
    "+ Chat" (who then takes the conversation, whoever the closing logic left on it).
    Attachments named by the message are the sender's own unsent uploads, claimed in the
    same transaction.
    """
    starting = conversation_id is None and author.type == "agent"
    if conversation_id is None:
        if author.type not in ("visitor", "agent") or site_id is None or visitor_id is None:
            raise InvalidInput("conversation_id is required", code="invalid_frame")
        existing = _visitor_message_by_client_id(conn, visitor_id, client_id)
        if existing is not None:
            return _duplicate(existing, author)
        row, created = _active_conversation(conn, site_id, visitor_id, channel_kind, latest=True)
    else:
        row, created = locked(conn, conversation_id), False
        if author.type == "visitor" and row["visitor_id"] != visitor_id:
            # Same answer as a missing one: never confirm another visitor's id.
            raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
        existing = _existing_message(conn, conversation_id, client_id)
        if existing is not None:
            return _duplicate(existing, author)

    appender = Appender(conn, row)
    arrived = created
    if created:
        appender.append("conversation.created", {"visitor_id": row["visitor_id"], "status": "open"})
    elif appender.state["status"] != "open":
        arrived = True
        _reopen(appender, conn, author)
    if (
        author.type == "agent"
        and (appender.state["assignee_id"] is None or starting)
        and (appender.state["assignee_id"] != author.id)
    ):
        # The agent who answers an unassigned conversation takes it; so does one who starts it.
        appender.set(assignee_id=author.id)
        appender.append("conversation.updated", status_data(appender.state, author))
    message: dict[str, Any] = {
        "id": new_id("msg"),
        "author_type": author.type,
        "author_id": author.id,
        "client_id": client_id,
        "text": text,
    }
    if attachment_ids:
        message["attachments"] = attachments.claim(
            conn, attachment_ids, uploader_type=author.type, uploader_id=author.id, message_id=message["id"]
        )
    seq = appender.append("message.created", author_data(author), message)
    if author.type == "visitor":
        if not automation.bots().turn(appender, conn, text) and arrived:
            automation.arrival(appender, conn, greet=created)
    elif author.type == "agent" and appender.state.get("bot_active"):
        automation.bots().stop(conn, row["id"])  # a person took over
        appender.set(bot_active=False)
    summary = appender.flush()
    ack = _ack({**message, "seq": seq, "conversation_id": row["id"], "created_at": appender.now}, False)
    return Change(conversation=summary, frames=appender.frames, ack=ack)


def post_note(conn: Connection, *, author: Author, client_id: str, text: str, conversation_id: str) -> Change:
    """An internal note: in the conversation's sequence for agents, never sent to the visitor."""
    row = locked(conn, conversation_id)
    existing = _existing_message(conn, conversation_id, client_id)
    if existing is not None:
        return _duplicate(existing, author)
    appender = Appender(conn, row)
    message = {
        "id": new_id("msg"),
        "author_type": author.type,
        "author_id": author.id,
        "client_id": client_id,
        "text": text,
    }
    seq = appender.append("note.created", author_data(author), message)
    summary = appender.flush()
    ack = _ack({**message, "seq": seq, "conversation_id": row["id"], "created_at": appender.now}, False)
    return Change(conversation=summary, frames=appender.frames, ack=ack)


def mark_read(
    conn: Connection,
    *,
    conversation_id: str,
    reader: Author,
    up_to_seq: int,
    visitor_id: str | None = None,
) -> Change:
    row = locked(conn, conversation_id)
    if reader.type == "visitor" and row["visitor_id"] != visitor_id:
        raise NotFound(f"no conversation {conversation_id!r}", code="conversation_not_found")
    column = "visitor_read_seq" if reader.type == "visitor" else "agent_read_seq"
    up_to = min(up_to_seq, row["last_seq"])
    appender = Appender(conn, row)
    if up_to <= row[column]:
        return Change(conversation=conversation_summary(appender.state))
    appender.set(**{column: up_to})
    appender.append(
        "conversation.read",
        {
            "reader": {"type": reader.type, "id": reader.id, "name": reader.name},
            "up_to_seq": up_to,
            "read_at": iso(appender.now),
        },
    )
    return Change(conversation=appender.flush(), frames=appender.frames)


UNSET: Any = object()


def update_conversation(
    conn: Connection,
    *,
    conversation_id: str,
    by: Author,
    status: str | None = None,
    snoozed_until: datetime | None = None,
    assignee_id: str | None = UNSET,
) -> Change:
    """An agent's change: status (open, closed, snoozed until a time) and/or assignee.

    Closing follows the site's closing logic (keep or drop the assignee);
    each change is one ``conversation.updated`` event.
    """
    row = locked(conn, conversation_id)
    appender = Appender(conn, row)
    state = appender.state
    before = (state["status"], state["assignee_id"], state["snoozed_until"])
    if assignee_id is not UNSET and assignee_id != state["assignee_id"]:
        if assignee_id is not None:
            _check_assignee(conn, assignee_id, state["channel_id"])
        appender.set(assignee_id=assignee_id)
    if status == "open" and state["status"] != "open":
        _reopened(appender, conn)
    elif status == "closed" and state["status"] != "closed":
        appender.set(status="closed", closed_at=appender.now, closed_by=by.id, snoozed_until=None)
        if state.get("bot_active"):
            automation.bots().stop(conn, state["id"])
            appender.set(bot_active=False)
        if workflow.site_policy(conn, state["site_id"]).closing == "drop" and assignee_id is UNSET:
            appender.set(assignee_id=None)
    elif status == "snoozed":
        if snoozed_until is None or snoozed_until <= appender.now:
            raise InvalidInput("snooze until a time in the future", code="invalid_snooze")
        if state["status"] == "closed":
            _reopened(appender, conn)
        appender.set(status="snoozed", snoozed_until=snoozed_until, closed_at=None, closed_by=None)
    elif status is not None and status not in STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(STATUSES)}, not {status!r}", code="invalid_status"
        )
    if (state["status"], state["assignee_id"], state["snoozed_until"]) == before:
        return Change(conversation=conversation_summary(state))
    appender.append("conversation.updated", status_data(state, by))
    return Change(conversation=appender.flush(), frames=appender.frames)


def _check_assignee(conn: Connection, user_id: str, channel_id: str | None) -> None:
    user = user_by_id(conn, user_id)
    if user is None or not user.is_active:
        raise InvalidInput(f"no active user {user_id!r} to assign", code="assignee_invalid")
    if not access_of(conn, user).sees(channel_id):
        raise InvalidInput(
            f"{user.name} has no access to this conversation's channel", code="assignee_no_access"
        )


def set_status(conn: Connection, *, conversation_id: str, status: str, by: Author) -> Change:
    """Open or close (the chat core's frame, kept for clients that send only a status)."""
    return update_conversation(conn, conversation_id=conversation_id, by=by, status=status)


def wake(conn: Connection, *, conversation_id: str, by: Author) -> Change:
    """Reopen a snoozed conversation whose time has come (nothing if it changed meanwhile)."""
    row = locked(conn, conversation_id)
    appender = Appender(conn, row)
    until = row["snoozed_until"]
    if row["status"] != "snoozed" or until is None or until > appender.now:
        return Change(conversation=conversation_summary(appender.state))
    _reopen(appender, conn, by)
    return Change(conversation=appender.flush(), frames=appender.frames)


def bot_wake(conn: Connection, *, conversation_id: str) -> Change:
    """A bot's wait ended: the flow goes on (nothing if an agent took over meanwhile)."""
    row = locked(conn, conversation_id)
    appender = Appender(conn, row)
    if not automation.bots().turn(appender, conn, None, woke=True):
        return Change(conversation=conversation_summary(appender.state))
    return Change(conversation=appender.flush(), frames=appender.frames)


def wake_snoozed(conn: Connection, now: datetime, limit: int = 100) -> list[str]:
    """Snoozed conversations whose time has come."""
    return [
        r[0]
        for r in conn.execute(
            select(conversations.c.id)
            .where(conversations.c.status == "snoozed", conversations.c.snoozed_until <= now)
            .limit(limit)
        )
    ]


def prune_history(conn: Connection, conversation_id: str, keep: int) -> int:
    """Drop a conversation's events before its ``keep`` latest messages; how many went."""
    cutoff = conn.execute(
        select(messages.c.seq)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.seq.desc())
        .offset(keep - 1)
        .limit(1)
    ).scalar()
    if cutoff is None:
        return 0
    gone = conn.execute(
        delete(events).where(events.c.conversation_id == conversation_id, events.c.seq < cutoff)
    ).rowcount
    conn.execute(
        delete(messages).where(messages.c.conversation_id == conversation_id, messages.c.seq < cutoff)
    )
    return int(gone or 0)


def start_from_proactive(
    conn: Connection,
    *,
    site_id: str,
    visitor_id: str,
    delivery_id: str,
    sender: Author,
    texts: list[str],
    tags: list[str],
    channel_kind: str = "web",
    bot_answer_id: str | None = None,
    bot_now: bool = False,
) -> Change:
    """The visitor's conversation opened by a proactive message: its texts first, its tags on,
    then its bot answer started (at once, or at the visitor's first message), or else routed
    like any conversation a visitor starts.

    The caller adds the texts once (the delivery's replied_at decides); each is
    stored under its own message id as client id.
    """
    row, created = _active_conversation(conn, site_id, visitor_id, channel_kind)
    appender = Appender(conn, row)
    if created:
        appender.append("conversation.created", {"visitor_id": visitor_id, "status": "open", "tags": tags})
    for text in texts:
        if text:
            message_id = new_id("msg")
            message = {
                "id": message_id,
                "author_type": sender.type,
                "author_id": sender.id,
                "client_id": message_id,
                "text": text,
            }
            appender.append("message.created", {**author_data(sender), "origin": "proactive"}, message)
    merged = automation.add_tags(conn, row["id"], tags)
    started = bool(bot_answer_id) and not automation.bots().running(conn, row["id"])
    if started and bot_answer_id is not None:
        started = automation.bots().start(appender, conn, bot_answer_id, now=bot_now)
    if created and not started:
        automation.arrival(appender, conn, greet=False)
    summary = appender.flush()
    summary["tags"] = merged
    return Change(conversation=summary, frames=appender.frames)
