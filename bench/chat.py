"""``python -m bench chat``: Parley's visitor→agent path against a bare WebSocket echo.

Both runs use the same load generator (the reference client's Socket) with
the same number of connections, each in a closed loop: send, wait, repeat.
The echo waits for its echo; Parley waits until the connected agent has
received the message, which means it was validated, stored, acknowledged to
the visitor and published to the bus on the way. Then a fresh Parley server
holds IDLE visitor sockets (hello answered) and we read its memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import Any

import psutil

from bench import report
from bench.servers import echo_server, parley_env, parley_server, raise_fd_limit
from parley_client import Socket
from parley_client.client import login
from server.accounts.store import create_user
from server.config import load_settings
from server.db import Database
from server.db.migrate import upgrade
from server.onboarding import open_site

TEXT = "Hello! Do you ship to Lisbon, and how long does it take?"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _figures(count: int, latencies: list[float], duration: float) -> dict[str, float]:
    return {
        "msgs_per_s": count / duration,
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "messages": count,
    }


async def _closed_loops(workers: list[Any], warmup: float, duration: float) -> tuple[int, list[float]]:
    """Run each worker(deadline_check) and count round trips after the warm-up."""
    count = 0
    latencies: list[float] = []
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def loop(step: Any) -> None:
        nonlocal count
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            await step()
            t1 = time.perf_counter()
            if t0 >= measure_from:
                count += 1
                latencies.append(t1 - t0)

    await asyncio.gather(*(loop(w) for w in workers))
    return count, latencies


async def run_echo(connections: int, warmup: float, duration: float) -> dict[str, float]:
    server = echo_server()
    try:
        url = server.base_url.replace("http", "ws") + "/echo"
        sockets = [await Socket.open(url) for _ in range(connections)]
        payload = json.dumps({"type": "message.send", "client_id": uuid.uuid4().hex, "text": TEXT})

        def step_for(sock: Socket) -> Any:
            async def step() -> None:
                await sock.ws.send(payload)
                await sock.ws.recv()

            return step

        count, latencies = await _closed_loops([step_for(s) for s in sockets], warmup, duration)
        for sock in sockets:
            await sock.close()
    finally:
        server.stop()
    return _figures(count, latencies, duration)


def _seed(env: dict[str, str]) -> tuple[str, str, str]:
    settings = load_settings(env)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        site = db.write_sync(lambda c: open_site(c, name="Bench", allowed_domains=["localhost"]))
        email = f"bench-{uuid.uuid4().hex[:8]}@bench.example"
        db.write_sync(
            lambda c: create_user(c, email=email, name="Bench Agent", password="bench-password", role="agent")
        )
    finally:
        db.close()
    return site.key, email, "bench-password"


async def _visitor(base: str, site_key: str) -> Socket:
    sock = await Socket.open(base.replace("http", "ws") + f"/ws/v1/visitor?site={site_key}")
    await sock.send({"type": "hello", "site_key": site_key, "client": {"kind": "sdk"}})
    await sock.expect("welcome")
    return sock


async def run_parley(
    database_url: str | None, connections: int, warmup: float, duration: float
) -> dict[str, float]:
    env = parley_env(database_url)
    site_key, email, password = _seed(env)
    server = parley_server(env)
    readers: list[asyncio.Task[None]] = []
    try:
        session = await login(server.base_url, email, password)
        agent = await Socket.open(
            server.base_url.replace("http", "ws") + "/ws/v1/agent",
            headers={"Cookie": f"parley_session={session}"},
        )
        await agent.send({"type": "hello"})
        await agent.expect("welcome")
        waiting: dict[str, asyncio.Future[None]] = {}

        async def agent_reader() -> None:
            async for raw in agent.ws:
                frame = json.loads(raw)
                if frame["type"] == "message.created":
                    future = waiting.pop(frame["message"]["client_id"], None)
                    if future is not None:
                        future.set_result(None)

        async def drain(sock: Socket) -> None:
            async for _raw in sock.ws:
                pass

        readers.append(asyncio.create_task(agent_reader()))
        visitors = [await _visitor(server.base_url, site_key) for _ in range(connections)]
        for sock in visitors:
            readers.append(asyncio.create_task(drain(sock)))
        loop = asyncio.get_running_loop()

        def step_for(sock: Socket) -> Any:
            async def step() -> None:
                client_id = uuid.uuid4().hex
                future = waiting[client_id] = loop.create_future()
                await sock.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "text": TEXT}))
                await asyncio.wait_for(future, 30)

            return step

        count, latencies = await _closed_loops([step_for(s) for s in visitors], warmup, duration)
        for task in readers:
            task.cancel()
        await agent.close()
        for sock in visitors:
            await sock.close()
    finally:
        server.stop()
    return _figures(count, latencies, duration)


async def run_idle_memory(database_url: str | None, idle: int) -> dict[str, float]:
    env = parley_env(database_url)
    site_key, _email, _password = _seed(env)
    server = parley_server(env)
    process = psutil.Process(server.pid)
    sockets: list[Socket] = []
    try:
        warm = [await _visitor(server.base_url, site_key) for _ in range(20)]
        for sock in warm:
            await sock.close()
        await asyncio.sleep(1)
        before = process.memory_info().rss
        for start in range(0, idle, 50):
            batch = await asyncio.gather(
                *(_visitor(server.base_url, site_key) for _ in range(min(50, idle - start)))
            )
            sockets.extend(batch)
        await asyncio.sleep(2)
        after = process.memory_info().rss
    finally:
        for sock in sockets:
            await sock.close()
        server.stop()
    return {
        "kb_per_idle_connection": (after - before) / idle / 1024,
        "rss_mb_before": before / 2**20,
        "rss_mb_after": after / 2**20,
    }


def progress(text: str) -> None:
    print(f"[bench chat] {text}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit()
    progress(f"echo baseline: {args.conversations} connections, {args.duration:g} s")
    echo = await run_echo(args.conversations, args.warmup, args.duration)
    progress(f"echo: {echo['msgs_per_s']:.0f} msgs/s; parley visitor->agent, same load")
    parley = await run_parley(args.database_url, args.conversations, args.warmup, args.duration)
    progress(f"parley: {parley['msgs_per_s']:.0f} msgs/s; memory with {args.idle} idle visitors")
    memory = await run_idle_memory(args.database_url, args.idle)
    return {
        "backend": "postgresql" if args.database_url else "sqlite",
        "conversations": args.conversations,
        "duration_s": args.duration,
        "echo_msgs_per_s": round(echo["msgs_per_s"], 1),
        "echo_p99_ms": round(echo["p99_ms"], 2),
        "parley_msgs_per_s": round(parley["msgs_per_s"], 1),
        "ratio_to_echo": round(parley["msgs_per_s"] / echo["msgs_per_s"], 3),
        "p50_ms": round(parley["p50_ms"], 2),
        "p99_ms": round(parley["p99_ms"], 2),
        "idle_connections": args.idle,
        "kb_per_idle_connection": round(memory["kb_per_idle_connection"], 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench chat")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--idle", type=int, default=2000, help="idle visitor sockets for the memory figure")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    result = run(args)
    figures = asyncio.run(result)
    goals = {"ratio_to_echo": ">= 0.3", "p99_ms": "<= 25", "kb_per_idle_connection": "<= 40"}
    report(figures, goals, args.json)
    return 0
