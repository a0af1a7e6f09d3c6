"""Dependencies that go away: Redis killed, PostgreSQL cut off by a partition.

A change that was committed is acknowledged as committed whatever the bus
does; sockets on one process stay live without Redis and the others catch up
when it is back; /readyz says what is down (503) and HTTP answers 503 with a
code, never 500.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley_client import AgentClient
from tests.harness import Stack, build_stack
from tests.helpers import event_in, eventually, hello, raw_visitor, sign_in
from tests.outages import OwnRedis, Partition

pytestmark = pytest.mark.anyio


async def _ready(url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.get("/readyz")


@pytest.fixture
def redis() -> Iterator[OwnRedis]:
    own = OwnRedis(Path(tempfile.mkdtemp(prefix="parley-redis-")))
    own.start()
    yield own
    own.kill()


@pytest.fixture
def redis_stack(redis: OwnRedis) -> Iterator[Stack]:
    built = build_stack("postgres", redis_url=redis.url)
    yield built
    built.close()


async def test_a_redis_outage_turns_no_committed_change_into_an_error(
    redis: OwnRedis, redis_stack: Stack
) -> None:
    stack = redis_stack
    site = stack.create_site()
    email, password = stack.create_agent()
    near = AgentClient(stack.visitor_url, email, password)  # the visitor's process
    far = AgentClient(stack.agent_url, email, password)  # the other one
    await near.connect()
    await far.connect()
    sock = await raw_visitor(stack, site)
    http = httpx.AsyncClient(base_url=stack.visitor_url)
    try:
        await hello(sock, site)
        await sock.send({"type": "message.send", "client_id": "before", "text": "before"})
        cid = (await sock.expect("ack"))["conversation_id"]
        await event_in(far, cid, "message.created")
        assert (await _ready(stack.visitor_url)).status_code == 200

        redis.kill()

        async def bus_down() -> bool:
            answer = await _ready(stack.visitor_url)
            return answer.status_code == 503 and answer.json()["bus"]["ok"] is False

        assert await eventually(bus_down), "never held: bus_down"
        assert (await _ready(stack.visitor_url)).json()["code"] == "not_ready"
        # Stored, so acknowledged as stored, and delivered live on the same process.
        await sock.send({"type": "message.send", "client_id": "during", "text": "during"})
        ack = await sock.expect(lambda f: f["type"] in ("ack", "error"))
        assert (ack["type"], ack["duplicate"]) == ("ack", False)
        live = await event_in(near, cid, "message.created", lambda f: f["message"]["text"] == "during")
        assert live["seq"] == ack["seq"]
        await sign_in(http, email, password)
        closed = await http.patch(f"/api/v1/conversations/{cid}", json={"status": "closed"})
        assert (closed.status_code, closed.json()["status"]) == (200, "closed")
        await event_in(near, cid, "conversation.updated", lambda f: f["status"] == "closed")

        redis.start()  # the same port: both processes reconnect

        async def ready() -> bool:
            answers = [await _ready(s.base_url) for s in stack.servers]
            return all(a.status_code == 200 for a in answers)

        assert await eventually(ready), "never held: ready"
        # The other process learns of what it missed, in order, without a gap.
        caught = await event_in(far, cid, "message.created", lambda f: f["message"]["text"] == "during")
        assert caught["seq"] == ack["seq"]
        await event_in(far, cid, "conversation.updated", lambda f: f["status"] == "closed")
    finally:
        await http.aclose()
        await sock.close()
        await near.close()
        await far.close()


@pytest.fixture
def partition() -> Iterator[Partition]:
    link = Partition(5432)
    link.restore()
    yield link
    link.cut()


@pytest.fixture
def cut_stack(partition: Partition) -> Iterator[Stack]:
    built = build_stack("postgres", processes=1, pg_port=partition.port)
    yield built
    built.close()


async def test_a_database_cut_off_is_a_503_with_a_code_and_loses_nothing(
    partition: Partition, cut_stack: Stack
) -> None:
    stack = cut_stack
    site = stack.create_site()
    email, password = stack.create_agent()
    sock = await raw_visitor(stack, site)
    http = httpx.AsyncClient(base_url=stack.visitor_url)
    try:
        await hello(sock, site)
        await sign_in(http, email, password)
        partition.cut()

        readiness = await _ready(stack.visitor_url)
        assert readiness.status_code == 503
        assert readiness.json()["database"]["ok"] is False and readiness.json()["bus"]["ok"] is True
        inbox = await http.get("/api/v1/inbox")
        assert (inbox.status_code, inbox.json()["code"]) == (503, "database_unavailable")
        assert inbox.headers["retry-after"]
        await sock.send({"type": "message.send", "client_id": "m1", "text": "are you there?"})
        refused = await sock.expect("error")
        assert (refused["code"], refused["client_id"]) == ("database_unavailable", "m1")
        assert refused["retry_after_ms"] > 0

        partition.restore()

        async def ready() -> bool:
            return (await _ready(stack.visitor_url)).status_code == 200

        assert await eventually(ready), "never held: ready"
        await sock.send({"type": "message.send", "client_id": "m1", "text": "are you there?"})
        ack = await sock.expect("ack")
        assert ack["duplicate"] is False  # the first try stored nothing
        assert (await http.get("/api/v1/inbox")).status_code == 200
    finally:
        await http.aclose()
        await sock.close()
