"""The bus: every published event reaches every server process, in publish order.

Backends are chosen by URL scheme, as broadcaster does: ``memory://`` (one
process) and ``redis://host:port/db?channel=NAME`` (any number of processes).
Each process holds one subscription and its hub routes what arrives; nothing
is persisted here, because everything that matters was committed before it was
published and a resuming client fetches it from the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

log = logging.getLogger(__name__)

Envelope = dict[str, Any]

# Sent to the local hub when the bus may have dropped messages (a Redis
# reconnect), so every socket re-reads what it missed from the database.
RESYNC: Envelope = {"t": "bus.resync"}


class Bus:
    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def publish(self, envelope: Envelope) -> None:
        raise NotImplementedError

    def listen(self) -> AsyncIterator[Envelope]:
        raise NotImplementedError


class MemoryBus(Bus):
    """One process: a publish is handed straight to the local listener.

    Envelopes are shared, not copied; receivers treat them as read-only.
    """

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Envelope]] = []

    async def publish(self, envelope: Envelope) -> None:
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


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.channel = query.pop("channel", ["parley.events"])[0]
        self._url = urlunsplit(parts._replace(query=""))
        self._redis = redis.from_url(self._url)

    async def connect(self) -> None:
        await self._redis.ping()

    async def disconnect(self) -> None:
        await self._redis.aclose()

    async def publish(self, envelope: Envelope) -> None:
        await self._redis.publish(self.channel, json.dumps(envelope, separators=(",", ":")))

    async def listen(self) -> AsyncIterator[Envelope]:
        from redis.exceptions import ConnectionError as RedisConnectionError

        delay = 0.1
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not first:
                    log.warning("bus reconnected to %s; asking sockets to resync", self.channel)
                    yield RESYNC
                first, delay = False, 0.1
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        yield json.loads(message["data"])
            except (RedisConnectionError, OSError) as exc:
                log.warning("bus connection lost (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                await pubsub.aclose()


def bus_from_url(url: str) -> Bus:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryBus()
    if scheme in ("redis", "rediss"):
        return RedisBus(url)
    raise ValueError(f"unknown bus URL scheme in {url!r}")
