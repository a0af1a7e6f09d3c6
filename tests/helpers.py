"""Small helpers shared by tests: connected clients and waiting on frames."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from parley_client import AgentClient, Socket, VisitorClient
from server.sites.models import Site
from tests.harness import Stack


async def visitor(stack: Stack, site: Site, **options: Any) -> VisitorClient:
    client = VisitorClient(stack.visitor_url, site.key, **options)
    await client.connect()
    return client


async def writer(stack: Stack, site: Site, text: str, **identity: str) -> VisitorClient:
    """A connected visitor who said who they are (``identity``, if any) and wrote ``text``."""
    client = await visitor(stack, site)
    if identity:
        await client.identify(**identity)
    await client.send(text)
    return client


async def agent(stack: Stack, **options: Any) -> AgentClient:
    email, password = stack.create_agent()
    client = AgentClient(stack.agent_url, email, password, **options)
    await client.connect()
    return client


@asynccontextmanager
async def chat(
    stack: Stack, **visitor_options: Any
) -> AsyncIterator[tuple[Site, VisitorClient, AgentClient]]:
    """A visitor on a fresh site and a signed-in agent; both closed afterwards, whatever happens."""
    site = stack.create_site()
    alice = await visitor(stack, site, **visitor_options)
    ana = await agent(stack)
    try:
        yield site, alice, ana
    finally:
        await alice.close()
        await ana.close()


@asynccontextmanager
async def signed_http(stack: Stack, role: str = "agent") -> AsyncIterator[httpx.AsyncClient]:
    """A new person's signed-in HTTP session on the agent server (an agent unless ``role`` says)."""
    async with httpx.AsyncClient(base_url=stack.agent_url, timeout=30) as http:
        email, password = stack.create_agent(role=role)
        await sign_in(http, email, password)
        yield http


async def raw_visitor(stack: Stack, site: Site, origin: str | None = None, url: str | None = None) -> Socket:
    base = (url or stack.visitor_url).replace("http://", "ws://")
    return await Socket.open(f"{base}/ws/v1/visitor?site={site.key}", origin=origin)


async def hello(socket: Socket, site: Site, **fields: Any) -> dict[str, Any]:
    await socket.send({"type": "hello", "site_key": site.key, **fields})
    return await socket.expect(lambda f: f["type"] in ("welcome", "error"))


async def event_in(
    client: Any,
    conversation_id: str,
    type_: str,
    where: Callable[[dict[str, Any]], bool] = lambda f: True,
    timeout: float = 10,
) -> dict[str, Any]:
    """The next event of a type in one conversation (agents see every site's traffic)."""
    while True:
        frame = await client.next_event(type_, timeout=timeout)
        if frame.get("conversation_id") == conversation_id and where(frame):
            return frame


def by(author_type: str) -> Callable[[dict[str, Any]], bool]:
    """Match a message or read receipt by who made it."""
    return lambda f: (f.get("message", {}).get("author") or f.get("reader") or {}).get("type") == author_type


async def sign_in(http: Any, email: str, password: str) -> dict[str, Any]:
    """Sign an httpx client in; later state-changing requests carry the session's CSRF token."""
    done = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    http.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


def raw_websocket(
    url: str, headers: dict[str, str] | None = None, receive_buffer: int | None = None
) -> socket.socket:
    """A WebSocket client at the byte level: a bare TCP socket after the handshake,
    which answers no pings and reads only when the test does."""
    parts = urlsplit(url)
    sock = socket.socket()
    if receive_buffer is not None:  # set before connecting, so the window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(5)
    sock.connect((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall(
        f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"{extra}\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: no frame after the head is taken
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def text_frame(text: str) -> bytes:
    """One masked text frame, as a client sends it."""
    payload = text.encode()
    mask = os.urandom(4)
    if len(payload) < 126:
        head = bytes([0x81, 0x80 | len(payload)])
    elif len(payload) < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + len(payload).to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> bool:
    """Poll a condition that no frame announces (a count, a readiness probe) until it holds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


@asynccontextmanager
async def bus_tap(stack: Stack) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """The envelopes the stack's processes publish on Redis from now on, in order."""
    import redis.asyncio as redis

    url, _, channel = stack.bus_url.partition("?channel=")
    client = redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)

    async def envelopes() -> AsyncIterator[dict[str, Any]]:
        async for message in pubsub.listen():
            yield json.loads(message["data"])["e"]

    try:
        yield envelopes()
    finally:
        await pubsub.aclose()
        await client.aclose()
