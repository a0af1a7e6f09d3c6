"""``/ws/v1/agent``: the agent workspace's socket, authenticated by the session cookie."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

from server.accounts.access import Access
from server.conversations import actions, queries
from server.conversations.events import Author
from server.errors import InvalidInput, Unauthorized
from server.ids import iso, utcnow
from server.protocol import (
    AGENT_FRAMES,
    AgentHello,
    ConversationRead,
    ConversationUpdate,
    FrameError,
    MessageSend,
    NoteAdd,
    TypingUpdate,
)
from server.realtime.connection import Connection
from server.services import Services, services_of
from server.web.auth import signed_in, user_json
from server.web.sockets import Session, admit, deny, reply

RECENT_CONVERSATIONS = 200


def _same_origin(ws: WebSocket) -> bool:
    """Cookies ride along on cross-site sockets, so a browser socket must come
    from our own pages (cross-site WebSocket hijacking)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = ws.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def agent_socket(ws: WebSocket) -> None:
    services = services_of(ws)
    if not _same_origin(ws):
        await deny(ws, 403, "origin_not_allowed", "the agent socket accepts only this server's pages")
        return
    try:
        access = await signed_in(ws)
    except Unauthorized as exc:
        await deny(ws, 401, exc.code, exc.message)
        return
    if not access.can("conversations"):
        await deny(ws, 403, "section_forbidden", "your role does not include Conversations")
        return
    await admit(services, ws, AgentSession(services, access, ws.state.session_id))


class AgentSession(Session):
    kind = "agent"
    frames = AGENT_FRAMES

    def __init__(self, services: Services, access: Access, session_id: str) -> None:
        super().__init__(services)
        self.session_id = session_id
        self.user = access.user
        self.initial_access = access
        self.author = Author("agent", self.user.id, self.user.name, self.user.avatar_url)

    async def _conversation(self, conn: Connection, conversation_id: str) -> dict[str, Any]:
        """A conversation this socket's user may act on (channel_forbidden otherwise)."""
        found = await self.services.db.read(queries.conversation, conversation_id)
        conn.access.check(found)
        return found

    async def _check(self, conn: Connection, conversation_id: str) -> None:
        if conn.access.channels is not None:  # everyone else sees every channel
            await self._conversation(conn, conversation_id)

    async def hello(self, conn: Connection, frame: AgentHello) -> None:
        if conn.ready:
            raise FrameError("hello was already answered on this connection", code="hello_repeated")
        access = conn.access = self.initial_access
        conversations = await self.services.db.read(
            lambda c: queries.recent_conversations(c, limit=RECENT_CONVERSATIONS, channels=access.channels)
        )
        conn.user = self.user
        conn.session_id = self.session_id
        self.services.hub.attach(conn)
        await conn.send(
            {
                "type": "welcome",
                "protocol": 1,
                "user": user_json(self.user),
                "access": access.public(),
                "conversations": conversations,
                "limits": {"max_message_chars": self.services.settings.max_message_chars},
                "heartbeat_s": self.services.settings.heartbeat_interval_s,
                "idle_timeout_s": self.services.settings.idle_timeout_s,
                "server_time": iso(utcnow()),
            }
        )
        await self.services.hub.resume(conn, frame.cursors, conversations)

    async def message_send(self, conn: Connection, frame: MessageSend) -> None:
        if frame.conversation_id is None:
            raise InvalidInput("an agent's message needs a conversation_id", code="invalid_frame")
        await self._check(conn, frame.conversation_id)
        ack = await actions.send_message(
            self.services.db,
            self.services.bus,
            author=self.author,
            client_id=frame.client_id,
            text=frame.text,
            conversation_id=frame.conversation_id,
            max_chars=self.services.settings.max_message_chars,
            attachment_ids=frame.attachments,
        )
        await reply(self.services, conn, {"type": "ack", **ack})

    async def note_add(self, conn: Connection, frame: NoteAdd) -> None:
        await self._check(conn, frame.conversation_id)
        ack = await actions.add_note(
            self.services.db,
            self.services.bus,
            author=self.author,
            client_id=frame.client_id,
            text=frame.text,
            conversation_id=frame.conversation_id,
            max_chars=self.services.settings.max_message_chars,
        )
        await reply(self.services, conn, {"type": "ack", **ack})

    async def conversation_read(self, conn: Connection, frame: ConversationRead) -> None:
        await self._check(conn, frame.conversation_id)
        await actions.mark_read(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            reader=self.author,
            up_to_seq=frame.up_to_seq,
        )

    async def conversation_update(self, conn: Connection, frame: ConversationUpdate) -> None:
        await self._check(conn, frame.conversation_id)
        await actions.update(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            by=self.author,
            **changes_of(frame.model_fields_set, frame.status, frame.snoozed_until, frame.assignee_id),
        )

    async def typing_update(self, conn: Connection, frame: TypingUpdate) -> None:
        conversation = await self._conversation(conn, frame.conversation_id)
        await actions.typing(
            self.services.bus, conversation=conversation, author=self.author, active=frame.active
        )


def changes_of(
    given: set[str], status: str | None, snoozed_until: str | None, assignee_id: str | None
) -> dict[str, Any]:
    """A conversation.update frame (or PATCH body) as store.update_conversation's arguments."""
    changes: dict[str, Any] = {}
    if status is not None:
        changes["status"] = status
    if snoozed_until is not None:
        try:
            moment = datetime.fromisoformat(snoozed_until.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                f"snoozed_until {snoozed_until!r} is not a time like 2026-11-23T09:00:00Z",
                code="invalid_snooze",
            ) from None
        if moment.tzinfo is None:
            raise InvalidInput("snoozed_until needs a time zone (Z or +01:00)", code="invalid_snooze")
        changes["snoozed_until"] = moment
    if "assignee_id" in given:
        changes["assignee_id"] = assignee_id
    if not changes:
        raise InvalidInput("change the status, the snooze or the assignee", code="invalid_frame")
    return changes
