"""The hub: this process's sockets, fed only from the bus.

``recipients`` is the one place that decides who receives an envelope. Each
socket keeps a cursor per conversation; an event at or below the cursor is a
repeat and is dropped, an event past cursor + 1 means the bus delivered out of
order (two processes publishing) or dropped something, and the gap is read
from the database before the event is sent. Sockets therefore see every
conversation as one gap-free, repeat-free sequence whatever the bus does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from server.config import Settings
from server.outgoing import dumps
from server.protocol import CLOSE_RATE, CLOSE_TIMEOUT, error_frame
from server.realtime import envelopes
from server.realtime.bus import Bus
from server.realtime.connection import Connection
from server.realtime.envelopes import Envelope

log = logging.getLogger(__name__)

# Events in a conversation's sequence that visitors never receive (internal notes).
AGENTS_ONLY = frozenset({"note.created"})

# A socket that lets this many frames pile up unread is cut off rather than
# letting its backlog grow without bound.
MAX_OUTBOX = 2000


@dataclass(frozen=True)
class Readers:
    """What the hub reads from the product, handed in when the services are built, so
    that realtime/ imports no part of it."""

    # Whether an agent socket's session is still signed in, active and current.
    session_valid: Callable[[Connection], Awaitable[bool]]
    # A user's grants now (an ``Access``), or None when the user is gone.
    access: Callable[[str], Awaitable[Any]]
    # (conversation id, after, limit, up to) -> the replay window, or None: no such conversation.
    replay_window: Callable[[str, int, int, int | None], Awaitable[dict[str, Any] | None]]


class Hub:
    def __init__(self, bus: Bus, settings: Settings, readers: Readers) -> None:
        self.readers = readers
        self.bus = bus
        self.settings = settings
        self.connections: set[Connection] = set()
        self.visitors: dict[str, set[Connection]] = {}
        self.agents: set[Connection] = set()
        self.per_ip: Counter[str] = Counter()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        # Called when a socket goes (e.g. to cancel its proactive timers).
        self.leave_hooks: list[Callable[[Connection], None]] = []
        # Called when a socket's identity is known (e.g. an agent comes online).
        self.join_hooks: list[Callable[[Connection], None]] = []
        # Envelopes for the process itself, by type (e.g. "proactive.changed").
        self.control_hooks: dict[str, Callable[[Envelope], None]] = {}

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._sweep())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for conn in list(self.connections):
            await self.close(conn, 1001, "server_shutdown")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- membership ------------------------------------------------------------

    def has_room(self, ip: str) -> bool:
        return self.per_ip[ip] < self.settings.connections_per_ip

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)
        self.per_ip[conn.ip] += 1

    def attach(self, conn: Connection) -> None:
        """Start routing envelopes to a socket whose identity is now known."""
        if conn.kind == "visitor":
            assert conn.visitor_id is not None
            self.visitors.setdefault(conn.visitor_id, set()).add(conn)
        else:
            self.agents.add(conn)
        for hook in self.join_hooks:
            hook(conn)

    def remove(self, conn: Connection) -> None:
        conn.closed = True
        if conn not in self.connections:
            return
        for hook in self.leave_hooks:
            hook(conn)
        self.connections.discard(conn)
        self.per_ip[conn.ip] -= 1
        if self.per_ip[conn.ip] <= 0:
            del self.per_ip[conn.ip]
        self.agents.discard(conn)
        if conn.visitor_id is not None:
            tabs = self.visitors.get(conn.visitor_id)
            if tabs is not None:
                tabs.discard(conn)
                if not tabs:
                    del self.visitors[conn.visitor_id]

    async def close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closed:
            return
        conn.closed = True
        log.info("closing %s: %s", conn.label(), reason)
        with contextlib.suppress(Exception):
            await conn.ws.close(code, reason)

    # -- routing -----------------------------------------------------------------

    def recipients(self, envelope: Envelope) -> Iterable[Connection]:
        """Who receives an envelope: its type's audience (envelopes.AUDIENCE)."""
        audience = envelopes.AUDIENCE.get(envelopes.Kind(envelope["t"]))
        if audience == "conversation":
            yield from self.visitors.get(envelope["conversation"]["visitor_id"], ())
            yield from self._agents_of(envelope["conversation"])
        elif audience == "typing":
            author = envelope["frame"]["author"]
            if author["type"] != "visitor":
                yield from self.visitors.get(envelope["conversation"]["visitor_id"], ())
            yield from (a for a in self._agents_of(envelope["conversation"]) if a.user_id != author["id"])
        elif audience == "user":
            yield from (a for a in self.agents if a.user_id == envelope["user_id"])
        elif audience == "session":
            yield from (a for a in self.agents if a.session_id == envelope["session_id"])
        elif audience == "everyone":
            yield from self.connections

    def _agents_of(self, conversation: dict[str, Any]) -> Iterable[Connection]:
        """Agent sockets whose user may see the conversation's channel."""
        channel = conversation.get("channel_id")
        return (a for a in self.agents if a.access is None or a.access.sees(channel))

    def route(self, envelope: Envelope) -> None:
        """Hand an envelope to its receivers, doing for each what its type says (envelopes.ACTION)."""
        kind = envelopes.Kind(envelope["t"])
        action = envelopes.ACTION[kind]
        if action == "hook":  # for the process, not for sockets
            hook = self.control_hooks.get(kind)
            if hook is not None:
                hook(envelope)
            return
        for conn in self.recipients(envelope):
            if action == "revoke":
                self._spawn(self._revoke(conn))
            elif action == "reload_access":
                self._spawn(self._reload_access(conn))
            else:
                self.enqueue(conn, envelope)
                if action == "resync" and conn.kind == "agent":
                    # A revocation published while the bus was down may never arrive.
                    self._spawn(self._recheck(conn))

    async def _revoke(self, conn: Connection) -> None:
        if conn.closed:
            return
        with contextlib.suppress(Exception):
            await conn.send(error_frame("session_revoked", "your session was revoked; sign in again"))
        await self.close(conn, 4401, "session_revoked")

    async def _recheck(self, conn: Connection) -> None:
        """Close an agent socket whose session ended or was revoked while the bus was away."""
        if not conn.closed and conn.user is not None and not await self.readers.session_valid(conn):
            await self._revoke(conn)

    async def _reload_access(self, conn: Connection) -> None:
        """An admin changed what the user may see: later envelopes follow the new grants."""
        access = await self.readers.access(conn.user_id or "")
        if access is not None and not conn.closed:
            conn.access = access
            conn.user = access.user
            with contextlib.suppress(Exception):
                await conn.send({"type": "access.updated", **access.public()})

    async def _listen(self) -> None:
        async for envelope in self.bus.listen():
            try:
                self.route(envelope)
            except Exception:
                log.exception("could not route a %r envelope", envelope.get("t"))

    # -- delivery ----------------------------------------------------------------

    def enqueue(self, conn: Connection, item: dict[str, Any]) -> None:
        """Queue an envelope or a ready frame for one socket, in order."""
        if conn.closed:
            return
        if len(conn.outbox) >= MAX_OUTBOX:
            log.warning("%s reads too slowly; closing it", conn.label())
            self._spawn(self.close(conn, CLOSE_RATE, "slow_consumer"))
            return
        conn.outbox.append(item)
        self.kick(conn)

    def kick(self, conn: Connection) -> None:
        if not conn.draining and not conn.paused and conn.outbox:
            conn.draining = True
            self._spawn(self._drain(conn))

    async def _drain(self, conn: Connection) -> None:
        try:
            while conn.outbox and not conn.closed:
                item = conn.outbox.popleft()
                kind = item.get("t")
                if kind == envelopes.Kind.EVENTS:
                    for frame, text in zip(item["frames"], _encoded(item), strict=True):
                        await self.send_event(conn, frame, text)
                elif kind == envelopes.Kind.TYPING:
                    await conn.send(item["frame"])
                elif kind == envelopes.Kind.BUS_RESYNC:
                    for conversation_id, cursor in list(conn.cursors.items()):
                        await self.catch_up(conn, conversation_id, cursor)
                else:
                    await conn.send(item)
        except Exception as exc:  # the socket went away mid-send
            log.debug("drain of %s stopped: %r", conn.label(), exc)
            conn.closed = True
            conn.outbox.clear()
        finally:
            conn.draining = False

    async def send_event(self, conn: Connection, frame: dict[str, Any], text: str | None = None) -> None:
        conversation_id, seq = frame["conversation_id"], frame["seq"]
        cursor = conn.cursors.get(conversation_id)
        if cursor is not None:
            if seq <= cursor:
                return
            if seq > cursor + 1:
                await self.catch_up(conn, conversation_id, cursor, up_to=seq - 1)
        conn.cursors[conversation_id] = seq
        if conn.kind == "visitor":
            conn.conversations.add(conversation_id)
            if frame["type"] in AGENTS_ONLY:
                return
        if text is None:
            await conn.send(frame)
        else:
            await conn.send_text(text)

    async def resume(
        self, conn: Connection, cursors: dict[str, int], conversations: list[dict[str, Any]]
    ) -> None:
        """After welcome: replay what the client missed, then let live events flow.

        Conversations the client gave no cursor for start live after the
        last_seq it was just told in welcome.
        """
        try:
            for conversation_id, seq in cursors.items():
                await self.catch_up(conn, conversation_id, seq)
            for summary in conversations:
                conn.cursors.setdefault(summary["id"], summary["last_seq"])
        finally:
            conn.paused = False
            self.kick(conn)

    async def catch_up(
        self, conn: Connection, conversation_id: str, after: int, up_to: int | None = None
    ) -> None:
        """Send what a socket missed after ``after``, or tell it to refetch."""
        window = await self.readers.replay_window(conversation_id, after, self.settings.replay_limit, up_to)
        if (
            window is None
            or (conn.kind == "visitor" and window["visitor_id"] != conn.visitor_id)
            or (conn.access is not None and not conn.access.sees(window["channel_id"]))
        ):
            await conn.send(
                error_frame(
                    "conversation_not_found",
                    f"no conversation {conversation_id!r}",
                    conversation_id=conversation_id,
                )
            )
            conn.cursors.pop(conversation_id, None)
            return
        if conn.kind == "visitor":
            conn.conversations.add(conversation_id)
        if window["frames"] is None:
            await conn.send(
                error_frame(
                    "resync_required",
                    f"cannot replay {conversation_id!r} from seq {after}; fetch its history",
                    conversation_id=conversation_id,
                    reason=window["reason"],
                    last_seq=window["last_seq"],
                )
            )
            conn.cursors[conversation_id] = window["last_seq"]
            return
        conn.cursors.setdefault(conversation_id, after)
        for frame in window["frames"]:
            if frame["seq"] > conn.cursors[conversation_id]:
                conn.cursors[conversation_id] = frame["seq"]
                if conn.kind == "visitor" and frame["type"] in AGENTS_ONLY:
                    continue
                await conn.send(frame)

    # -- liveness ------------------------------------------------------------------

    async def _sweep(self) -> None:
        s = self.settings
        tick = max(0.05, min(5.0, s.idle_timeout_s / 4, s.hello_timeout_s / 4))
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for conn in list(self.connections):
                if not conn.ready and now - conn.opened_at > s.hello_timeout_s:
                    self._spawn(self.close(conn, CLOSE_TIMEOUT, "hello_timeout"))
                elif now - conn.last_received > s.idle_timeout_s:
                    self._spawn(self.close(conn, CLOSE_TIMEOUT, "idle_timeout"))


def _encoded(envelope: Envelope) -> list[str]:
    """An envelope's frames as JSON, encoded once however many sockets receive them."""
    text = envelope.get("_encoded")
    if text is None:
        text = envelope["_encoded"] = [dumps(frame) for frame in envelope["frames"]]
    return text
