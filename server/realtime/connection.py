"""One client socket: its identity, cursors, rate buckets, and an ordered outbox.

Everything sent to a socket goes through its outbox and one drain task, so
frames leave in the order they were queued: welcome before replay, replay
before live events, and each conversation's events in sequence order with
no gap and no repeat (see Hub).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from starlette.websockets import WebSocket

from server.outgoing import dumps
from server.realtime.limits import TokenBucket


class Connection:
    __slots__ = (
        "access", "closed", "conversations", "cursors", "draining", "frames_bucket", "ip", "kind",
        "last_received", "messages_bucket", "opened_at", "outbox", "paused", "proactive", "refusals",
        "session_id", "site_id", "user", "visitor_id", "ws",
    )  # fmt: skip

    def __init__(
        self, ws: WebSocket, kind: str, ip: str, *, frames: int, messages: int, window_s: float
    ) -> None:
        self.ws = ws
        self.kind = kind  # "visitor" or "agent"
        self.ip = ip
        self.site_id: str | None = None
        self.visitor_id: str | None = None
        self.user: Any = None
        self.session_id: str | None = None  # an agent socket's sign-in
        # An agent socket's server.accounts.access.Access: which conversations it receives.
        self.access: Any = None
        # conversation id -> last sequence number this socket has been sent
        self.cursors: dict[str, int] = {}
        # conversations a visitor socket may touch, checked once then remembered (visitors only)
        self.conversations: set[str] = set()
        self.outbox: deque[dict[str, Any]] = deque()
        self.draining = False
        self.paused = True  # until the hello is answered
        self.closed = False
        self.opened_at = self.last_received = time.monotonic()
        self.frames_bucket = TokenBucket(frames, window_s)
        self.messages_bucket = TokenBucket(messages, window_s)
        # Frames refused for rate, refilled as frames are: a client that keeps
        # sending past its limit runs out, whether or not it reads the refusals.
        self.refusals = TokenBucket(frames, window_s)
        self.proactive: Any = None  # a visitor socket's proactive context (server.proactive.engine)

    @property
    def ready(self) -> bool:
        return self.visitor_id is not None or self.user is not None

    @property
    def user_id(self) -> str | None:
        return getattr(self.user, "id", None)

    def label(self) -> str:
        who = self.visitor_id if self.kind == "visitor" else self.user_id
        return f"{self.kind}:{who or '-'}@{self.ip}"

    async def send(self, frame: dict[str, Any]) -> None:
        """Send now, bypassing the outbox: only while paused (hello) or from the drain."""
        await self.send_text(dumps(frame))

    async def send_text(self, text: str) -> None:
        if not self.closed:
            await self.ws.send_text(text)
