"""``/ws/v1/agent``: the agent workspace's socket, authenticated by the session cookie."""

from __future__ import annotations

from starlette.websockets import WebSocket

from server.accounts.models import User
from server.conversations import actions, store
from server.conversations.store import Author
from server.errors import InvalidInput, Unauthorized
from server.ids import iso, utcnow
from server.protocol import (
    AGENT_FRAMES,
    AgentHello,
    ConversationRead,
    ConversationUpdate,
    FrameError,
    MessageSend,
    TypingUpdate,
)
from server.realtime.connection import Connection
from server.services import Services, services_of
from server.web.auth import current_user, user_json
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
        user = await current_user(ws)
    except Unauthorized as exc:
        await deny(ws, 401, exc.code, exc.message)
        return
    await admit(services, ws, AgentSession(services, user))


class AgentSession(Session):
    kind = "agent"
    frames = AGENT_FRAMES

    def __init__(self, services: Services, user: User) -> None:
        super().__init__(services)
        self.user = user
        self.author = Author("agent", user.id, user.name, user.avatar_url)

    async def hello(self, conn: Connection, frame: AgentHello) -> None:
        if conn.ready:
            raise FrameError("hello was already answered on this connection", code="hello_repeated")
        conversations = await self.services.db.read(
            lambda c: store.recent_conversations(c, limit=RECENT_CONVERSATIONS)
        )
        conn.user = self.user
        self.services.hub.attach(conn)
        await conn.send(
            {
                "type": "welcome",
                "protocol": 1,
                "user": user_json(self.user),
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
        ack = await actions.send_message(
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
        await actions.mark_read(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            reader=self.author,
            up_to_seq=frame.up_to_seq,
        )

    async def conversation_update(self, conn: Connection, frame: ConversationUpdate) -> None:
        await actions.set_status(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            status=frame.status,
            by=self.author,
        )

    async def typing_update(self, conn: Connection, frame: TypingUpdate) -> None:
        conversation = await self.services.db.read(store.conversation, frame.conversation_id)
        await actions.typing(
            self.services.bus, conversation=conversation, author=self.author, active=frame.active
        )
