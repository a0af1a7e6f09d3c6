"""The receive loop both socket endpoints share: limits, parsing, dispatch, errors.

Every refusal is an ``error`` frame with a stable code and the socket stays
open; only abuse (flooding, bad credentials) closes it. No exception text
other than our own messages ever reaches a client.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.db import unavailable, unstorable
from server.errors import ParleyError
from server.protocol import CLOSE_RATE, Frame, FrameError, error_frame, parse
from server.realtime.connection import Connection
from server.services import Services

log = logging.getLogger(__name__)

_CLIENT_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")

Handler = Callable[[Connection, Any], Awaitable[None]]


async def deny(ws: WebSocket, status: int, code: str, message: str) -> None:
    """Refuse a socket before accepting it: an HTTP error the client can read."""
    log.info("refused %s socket from %s: %s", ws.url.path, client_ip(ws), code)
    try:
        await ws.send_denial_response(JSONResponse({"code": code, "message": message}, status))
    except RuntimeError:  # the server lacks the websocket.http.response extension
        await ws.close(4000 + status, code)


def client_ip(ws: WebSocket) -> str:
    return ws.client.host if ws.client else "unknown"


async def reply(services: Services, conn: Connection, frame: dict[str, Any]) -> None:
    """Answer on a socket: directly while hello is in progress, else behind what is queued."""
    if conn.paused:
        await conn.send(frame)
    else:
        services.hub.enqueue(conn, frame)


async def serve_socket(
    services: Services,
    conn: Connection,
    table: dict[str, type[Frame]],
    handlers: dict[str, Handler],
) -> None:
    hub = services.hub
    hub.add(conn)
    log.info("connected %s", conn.label())
    try:
        while not conn.closed:
            message = await conn.ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            conn.last_received = time.monotonic()
            await _handle(services, conn, message, table, handlers)
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(conn)
        log.info("disconnected %s", conn.label())


async def _handle(
    services: Services,
    conn: Connection,
    message: MutableMapping[str, Any],
    table: dict[str, type[Frame]],
    handlers: dict[str, Handler],
) -> None:
    settings = services.settings
    text = message.get("text")
    if text is None:
        await reply(services, conn, error_frame("binary_frame", "send JSON text frames"))
        return
    if len(text) > settings.max_frame_bytes or (
        len(text) * 4 > settings.max_frame_bytes and len(text.encode()) > settings.max_frame_bytes
    ):
        await reply(
            services,
            conn,
            error_frame(
                "frame_too_large",
                f"frames are limited to {settings.max_frame_bytes} bytes",
                limit="frame_bytes",
                max=settings.max_frame_bytes,
            ),
        )
        return
    wait = conn.frames_bucket.take()
    if wait:
        if conn.refusals.take():
            # Used to count refusals in a row, reset by any frame let through: a
            # steady flood was refused for ever and never closed.
            await services.hub.close(conn, CLOSE_RATE, "rate_limited")
            return
        await reply(
            services,
            conn,
            error_frame(
                "rate_limited",
                "too many frames; slow down",
                limit="frames_per_connection",
                retry_after_ms=int(wait * 1000) + 1,
                **_client_id_of(text),
            ),
        )
        return
    frame_type = None
    client_id = None
    try:
        frame = parse(text, table)
        frame_type = frame.type  # type: ignore[attr-defined]
        client_id = getattr(frame, "client_id", None)
        if not conn.ready and frame_type != "hello":
            raise FrameError("send hello first", code="hello_required")
        await handlers[frame_type](conn, frame)
    except ParleyError as exc:
        ref = _ref(frame_type, client_id, text)
        await reply(services, conn, error_frame(exc.code, exc.message, **ref, **exc.extra))
        if exc.close_code is not None:
            await services.hub.close(conn, exc.close_code, exc.code)
    except Exception as exc:
        ref = _ref(frame_type, client_id, text)
        if unavailable(exc):
            log.warning("database unavailable for a %s frame from %s: %s", frame_type, conn.label(), exc)
            answer = error_frame(
                "database_unavailable",
                "the database is unreachable; retry shortly",
                retry_after_ms=2000,
                **ref,
            )
        elif unstorable(exc):
            answer = error_frame("unstorable", "a value in the frame cannot be stored", **ref)
        else:
            log.exception("failed to handle a %s frame from %s", frame_type, conn.label())
            answer = error_frame("internal_error", "the server failed; retry later", **ref)
        await reply(services, conn, answer)


def _ref(frame_type: str | None, client_id: str | None, text: str) -> dict[str, Any]:
    """What an error frame names of the frame it refuses: its type and client id,
    read from the raw text when the frame was refused before it was parsed."""
    if frame_type is None:
        return _client_id_of(text)
    return {"ref": frame_type, **({"client_id": client_id} if client_id else {})}


def _client_id_of(text: str) -> dict[str, str]:
    """A refused frame still names its client id, so the sender knows what to retry."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    client_id = data.get("client_id") if isinstance(data, dict) else None
    if isinstance(client_id, str) and _CLIENT_ID.fullmatch(client_id):  # never echo what cannot be sent
        return {"client_id": client_id}
    return {}


def rate_check(services: Services, conn: Connection) -> None:
    """The message limits: per connection, then per IP address."""
    # Lazily, in order: a connection over its own limit spends none of its IP's allowance.
    for limit, source, take in (
        ("messages_per_connection", "this connection", conn.messages_bucket.take),
        ("messages_per_ip", "this address", lambda: services.ip_messages.take(conn.ip)),
    ):
        wait = take()
        if wait:
            raise FrameError(
                f"too many messages from {source}",
                code="rate_limited",
                limit=limit,
                retry_after_ms=int(wait * 1000) + 1,
            )


class Session:
    """What one socket can do: frame type ``noun.verb`` is handled by method ``noun_verb``.

    The handler table is derived from the protocol's frame table, so a frame
    type without a handler fails on the first connection, not mid-conversation.
    """

    kind: str
    frames: dict[str, type[Frame]]

    def __init__(self, services: Services) -> None:
        self.services = services

    def handlers(self) -> dict[str, Handler]:
        return {name: getattr(self, name.replace(".", "_")) for name in self.frames}

    async def ping(self, conn: Connection, frame: Any) -> None:
        await reply(self.services, conn, {"type": "pong", "ts": frame.ts, "server_time": time.time()})


async def admit(services: Services, ws: WebSocket, session: Session) -> None:
    """Accept a socket that passed its endpoint's checks, if its IP has room, and serve it."""
    s = services.settings
    conn = Connection(
        ws,
        session.kind,
        client_ip(ws),
        frames=s.frames_per_connection,
        messages=s.messages_per_connection,
        window_s=s.rate_window_s,
    )
    if not services.hub.has_room(conn.ip):
        await deny(ws, 429, "too_many_connections", "too many open sockets from this address")
        return
    await ws.accept()
    await serve_socket(services, conn, session.frames, session.handlers())
