"""Time and count bounds at the TCP level, below anything the app can see.

uvicorn's protocols trust the peer to keep talking and reading. These
subclasses bound every way a peer can hold a connection without doing so:

- **Per-address connections.** Every TCP connection from an address counts,
  from accept to close, whatever it is doing (a half-sent request, a
  WebSocket); past ``connections_per_ip`` a new one gets 429
  ``too_many_connections`` and is closed. Connections from a trusted proxy are
  not counted here (the proxy bounds its own clients); the hub still counts
  their sockets by forwarded address.
- **Handshake deadline.** A connection must finish its request's headers
  within ``handshake_timeout_s`` of opening (or of its previous response):
  a silent or trickling peer is cut.
- **Send deadline.** A WebSocket whose peer has read nothing for
  ``send_timeout_s`` while frames wait is cut; closing a socket whose peer is
  not reading cuts it at once (a close frame would wait behind megabytes).
- **Close deadline.** After the server's close frame the peer has
  ``close_timeout_s`` to answer before the connection is cut; plain
  ``transport.close()`` would wait for ever on a peer that does not read.
- **Shutdown** closes WebSockets with 1001 ``server_shutdown`` (uvicorn sends
  1012 with no reason), so clients can tell a restart and reconnect at once.

The bounds reach the protocols through the lifespan state (``GATE``), so an
app served some other way simply runs without them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger(__name__)

GATE = "parley.gate"  # the lifespan-state key

SHUTDOWN_CODE, SHUTDOWN_REASON = 1001, "server_shutdown"


@dataclass
class Gate:
    """This process's open TCP connections by address, and the time bounds."""

    per_ip: int
    handshake_timeout_s: float
    send_timeout_s: float
    close_timeout_s: float
    trusted: frozenset[str] = frozenset()
    counts: Counter[str] = field(default_factory=Counter)
    _open: dict[Any, str] = field(default_factory=dict)

    def enter(self, transport: Any, ip: str) -> bool:
        """Count a new connection; False if its address has no room left."""
        if ip in self.trusted:
            return True
        if self.counts[ip] >= self.per_ip:
            return False
        self.counts[ip] += 1
        self._open[transport] = ip
        return True

    def leave(self, transport: Any) -> None:
        ip = self._open.pop(transport, None)
        if ip is not None:
            self.counts[ip] -= 1
            if self.counts[ip] <= 0:
                del self.counts[ip]

    def count(self, ip: str) -> int:
        return self.counts.get(ip, 0)


_REFUSAL = json.dumps(
    {"code": "too_many_connections", "message": "too many open connections from this address"}
).encode()
REFUSAL = (
    b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"retry-after: 10\r\ncontent-length: " + str(len(_REFUSAL)).encode() + b"\r\n\r\n" + _REFUSAL
)


def _cut(transport: Any, client: Any, why: str) -> None:
    """Drop the connection now (TCP reset), discarding whatever the peer has not read."""
    if transport.is_closing() and not transport.get_write_buffer_size():
        return  # already closed cleanly: nothing held
    log.info("cutting the connection from %s: %s", client[0] if client else "?", why)
    transport.abort()


class BoundedHTTP(H11Protocol):
    """HTTP/1.1 with a per-address connection limit and a deadline for each request's headers."""

    gate: Gate | None = None
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.gate = self.app_state.get(GATE)
        if self.gate is None:
            return
        ip = self.client[0] if self.client else "unknown"
        if not self.gate.enter(transport, ip):
            log.info("refused a connection from %s: %d open", ip, self.gate.count(ip))
            transport.write(REFUSAL)
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.gate is not None:
            self.gate.leave(self.transport)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole request line and headers arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on this keep-alive connection has its own deadline

    def _arm(self) -> None:
        self._disarm()
        if self.gate is not None:
            self._deadline = self.loop.call_later(self.gate.handshake_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        assert self.gate is not None
        _cut(self.transport, self.client, f"no whole request within {self.gate.handshake_timeout_s:g} s")


class BoundedWebSocket(WebSocketsSansIOProtocol):
    """WebSockets whose peer must read what it is sent and answer a close in time."""

    gate: Gate | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.gate = self.app_state.get(GATE)
        if self.gate is not None:
            self.close_timeout = self.gate.close_timeout_s

    def connection_lost(self, exc: Exception | None) -> None:
        if self.gate is not None:
            self.gate.leave(self.transport)  # counted when it was still HTTP
        super().connection_lost(exc)

    async def send(self, message: Any) -> None:
        gate = self.gate
        if gate is not None and not self.writable.is_set() and not self.disconnected:
            if message["type"] == "websocket.close":
                _cut(self.transport, self.client, "closed while it reads nothing")
                raise ClientDisconnected()
            try:
                await asyncio.wait_for(self.writable.wait(), gate.send_timeout_s)
            except TimeoutError:
                _cut(self.transport, self.client, f"read nothing for {gate.send_timeout_s:g} s")
                raise ClientDisconnected() from None
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            # uvicorn's timer calls transport.close(), which waits for the buffer to drain.
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(
                self.close_timeout, _cut, self.transport, self.client, "did not answer the close"
            )

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        _cut(self.transport, self.client, "no pong")

    def shutdown(self) -> None:
        if not self.handshake_complete or self.close_sent or self.disconnected or self.initial_response:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": SHUTDOWN_CODE})
        self.conn.send_close(SHUTDOWN_CODE, SHUTDOWN_REASON)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()
        self.loop.call_later(self.close_timeout, _cut, self.transport, self.client, "shutting down")
