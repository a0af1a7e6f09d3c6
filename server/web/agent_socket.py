"""``/ws/v1/agent``: the agent workspace's socket, authenticated by the session cookie."""

from __future__ import annotations

from typing import Any

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
    Ping,
    TypingUpdate,
)
from server.realtime.connection import Connection
from server.services import Services, services_of
from server.web.auth import current_user, user_json
from server.web.sockets import admit, deny, pong, reply

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
    await admit(services, ws, "agent", AGENT_FRAMES, AgentSession(services, user).handlers())


class AgentSession:
    def __init__(self, services: Services, user: User) -> None:
        self.services = services
        self.user = user
        self.author = Author("agent", user.id, user.name)

    def handlers(self) -> dict[str, Any]:
        return {
            "hello": self.hello,
            "message.send": self.send_message,
            "conversation.read": self.read,
            "conversation.update": self.update,
            "typing.update": self.typing,
            "ping": self.ping,
        }

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

    async def send_message(self, conn: Connection, frame: MessageSend) -> None:
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

    async def read(self, conn: Connection, frame: ConversationRead) -> None:
        await actions.mark_read(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            reader=self.author,
            up_to_seq=frame.up_to_seq,
        )

    async def update(self, conn: Connection, frame: ConversationUpdate) -> None:
        await actions.set_status(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            status=frame.status,
            by=self.author,
        )

    async def typing(self, conn: Connection, frame: TypingUpdate) -> None:
        conversation = await self.services.db.read(store.conversation, frame.conversation_id)
        await actions.typing(
            self.services.bus, conversation=conversation, author=self.author, active=frame.active
        )

    async def ping(self, conn: Connection, frame: Ping) -> None:
        await reply(self.services, conn, pong(frame))
