"""Small helpers shared by tests: connected clients and waiting on frames."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from parley_client import AgentClient, Socket, VisitorClient
from server.sites.models import Site
from tests.harness import Stack


async def visitor(stack: Stack, site: Site, **options: Any) -> VisitorClient:
    client = VisitorClient(stack.visitor_url, site.key, **options)
    await client.connect()
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
