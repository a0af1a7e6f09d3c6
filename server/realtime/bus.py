"""The bus: every published event reaches every server process, in publish order.

Backends are chosen by URL scheme, as broadcaster does: ``memory://`` (one
process) and ``redis://host:port/db?channel=NAME`` (any number of processes).
Each process holds one subscription and its hub routes what arrives; nothing
is persisted here, because everything that matters was committed before it was
published and a resuming client fetches it from the database.

``publish`` never fails and never waits on the network. What was published is
handed to this process's listeners at once, so sockets on the same process
stay live whatever Redis does, and it is queued for the other processes; a
sender task delivers the queue in order, and while Redis is down keeps it
(bounded) and retries. The caller's change is committed either way: an outage
delays other processes' live delivery, never turns a stored change into an
error. When envelopes had to be dropped, or a subscription broke, the
processes are told to resync (``bus.resync``) and re-read what they missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from server.realtime import envelopes
from server.realtime.envelopes import Envelope

log = logging.getLogger(__name__)


# Sent to the local hub when the bus may have dropped messages (a Redis
# reconnect), so every socket re-reads what it missed from the database.
RESYNC: Envelope = envelopes.bus_resync()


class Bus:
    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Envelope]] = []

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def publish(self, envelope: Envelope) -> None:
        """Deliver to this process now and to the others as soon as possible; never raises."""
        self._deliver(envelope)

    def _deliver(self, envelope: Envelope) -> None:
        """Envelopes are shared, not copied; receivers treat them as read-only."""
        for queue in self._queues:
            queue.put_nowait(envelope)

    async def listen(self) -> AsyncIterator[Envelope]:
        queue: asyncio.Queue[Envelope] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    def status(self) -> dict[str, Any]:
        """For /readyz: whether envelopes reach every process now."""
        return {"ok": True, "backend": "memory"}


class MemoryBus(Bus):
    """One process: a publish is handed straight to the local listeners."""


# Envelopes kept for other processes while Redis is unreachable. Past this the
# oldest go, and the others resync from the database when Redis is back.
MAX_BACKLOG = 10_000


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        super().__init__()
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.channel = query.pop("channel", ["parley.events"])[0]
        self._url = urlunsplit(parts._replace(query=""))
        # Publishing gives up on a dead server quickly and retries from the backlog.
        self._redis = redis.from_url(self._url, socket_connect_timeout=2, socket_timeout=2)
        self._subscriber = redis.from_url(self._url, socket_connect_timeout=2)
        # Envelopes from this process come back on the subscription; they were delivered already.
        self.origin = secrets.token_hex(8)
        self._backlog: deque[str] = deque()
        self._wake = asyncio.Event()
        self._dropped = 0
        self.subscribed = False
        self.sending = True  # False while publishes to Redis fail
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        await self._redis.ping()  # a wrong URL fails the start loudly
        self._tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._subscribe())]

    async def disconnect(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._redis.aclose()
        await self._subscriber.aclose()

    async def publish(self, envelope: Envelope) -> None:
        payload = json.dumps({"o": self.origin, "e": envelope}, separators=(",", ":"))
        self._deliver(envelope)
        if len(self._backlog) >= MAX_BACKLOG:
            self._backlog.popleft()
            self._dropped += 1
        self._backlog.append(payload)
        self._wake.set()

    def status(self) -> dict[str, Any]:
        ok = self.subscribed and self.sending
        return {"ok": ok, "backend": "redis", "backlog": len(self._backlog), "dropped": self._dropped}

    async def _send(self) -> None:
        from redis.exceptions import RedisError

        delay = 0.1
        while True:
            if not self._backlog:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._redis.publish(self.channel, self._backlog[0])
            except (RedisError, OSError) as exc:
                if self.sending:
                    log.warning("bus publish failed (%s); keeping %d envelopes", exc, len(self._backlog))
                self.sending = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._backlog.popleft()
            if not self.sending:
                log.warning("bus publishing again; %d envelopes waited", len(self._backlog) + 1)
                self.sending, delay = True, 0.1
                if self._dropped:
                    self._dropped = 0
                    await self._publish_resync()

    async def _publish_resync(self) -> None:
        """Some envelopes never left this process: every process re-reads from the database."""
        from redis.exceptions import RedisError

        with contextlib.suppress(RedisError, OSError):
            await self._redis.publish(self.channel, json.dumps({"o": "", "e": RESYNC}))

    async def _subscribe(self) -> None:
        from redis.exceptions import RedisError

        delay = 0.1
        first = True
        while True:
            pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed = True
                if not first:
                    log.warning("bus reconnected to %s; asking sockets to resync", self.channel)
                    self._deliver(RESYNC)
                first, delay = False, 0.1
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    data = json.loads(message["data"])
                    if data.get("o") != self.origin:
                        self._deliver(data["e"])
            except (RedisError, OSError) as exc:
                if self.subscribed:
                    log.warning("bus connection lost (%s); retrying", exc)
                self.subscribed = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()


def bus_from_url(url: str) -> Bus:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryBus()
    if scheme in ("redis", "rediss"):
        return RedisBus(url)
    raise ValueError(f"unknown bus URL scheme in {url!r}")
