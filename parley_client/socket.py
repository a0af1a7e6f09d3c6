"""A thin JSON-frame socket over ``websockets``: the level tests use to send raw frames."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Frame = dict[str, Any]


class Closed(Exception):
    """The socket closed; ``code`` and ``reason`` say how."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"socket closed ({code}) {reason}")
        self.code = code
        self.reason = reason


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._buffer: list[Frame] = []

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        open_timeout: float = 10,
    ) -> Socket:
        extra = dict(headers or {})
        ws = await connect(
            url,
            origin=origin,  # type: ignore[arg-type]
            additional_headers=extra,
            open_timeout=open_timeout,
            max_size=None,
            ping_interval=None,  # the protocol's own ping frames do this job
            compression=None,
        )
        return cls(ws)

    async def send(self, frame: Frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = 10) -> Frame:
        if self._buffer:
            return self._buffer.pop(0)
        return await self._read(timeout)

    async def _read(self, timeout: float) -> Frame:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        frame: Frame = json.loads(raw)
        return frame

    async def expect(self, match: str | Callable[[Frame], bool], timeout: float = 10) -> Frame:
        """The first frame that matches (a type, or a predicate); others stay buffered."""
        test = (lambda f: f.get("type") == match) if isinstance(match, str) else match
        for i, frame in enumerate(self._buffer):
            if test(frame):
                return self._buffer.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self._read(max(0.001, deadline - loop.time()))
            if test(frame):
                return frame
            self._buffer.append(frame)

    def pending(self) -> list[Frame]:
        return list(self._buffer)

    async def closed(self, timeout: float = 10) -> Closed:
        """Wait for the server to close the socket; frames before it are buffered."""
        try:
            while True:
                self._buffer.append(await self._read(timeout))
        except Closed as closed:
            return closed

    async def close(self) -> None:
        await self.ws.close()
