"""Real servers for tests: uvicorn subprocesses on free loopback ports.

A Stack is one database and one bus with one or more server processes on it.
The SQLite stack has one process and the in-memory bus; the PostgreSQL stack
has two processes sharing Redis, and tests put the visitor on one process and
the agent on the other, so every test there crosses processes.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from server.accounts.store import create_user
from server.db import Database
from server.db.migrate import upgrade
from server.onboarding import open_site
from server.sites.models import Site

PG_ADMIN_URL = os.environ.get("PARLEY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def postgres_problem() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc.__class__.__name__}: {first_line})"
    return None


def redis_problem() -> str | None:
    import redis

    try:
        redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} is unreachable ({exc.__class__.__name__}: {exc})"
    return None


# Every server a test started, for the wire-contract check after each test (conftest.py).
LIVE: set[ServerProcess] = set()


class ServerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.read_up_to = 0
        LIVE.add(self)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start in 30 s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Die as a crash would: no shutdown, no goodbyes."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def contract_breaks(self) -> list[str]:
        """Lines the server logged, since the last call, about a frame that broke the
        protocol's models (the conftest fails the test that caused them)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.read_up_to)
                new = log.read()
        except OSError:
            return []
        self.read_up_to += len(new)
        lines = new.decode(errors="replace").splitlines()
        return [line for line in lines if "FRAME CONTRACT BROKEN" in line or "breaks the contract" in line]

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    backend: str
    database_url: str
    bus_url: str
    workdir: Path
    env: dict[str, str]
    servers: list[ServerProcess] = field(default_factory=list)
    db: Database | None = None
    drop_database: str | None = None

    @property
    def visitor_url(self) -> str:
        return self.servers[0].base_url

    @property
    def agent_url(self) -> str:
        return self.servers[-1].base_url

    def create_site(self, domains: list[str] | None = None, **settings: Any) -> Site:
        assert self.db is not None
        return self.db.write_sync(
            lambda c: open_site(
                c,
                name="Test site",
                allowed_domains=domains if domains is not None else ["localhost", "127.0.0.1"],
                key="k" + secrets.token_hex(6),
                settings=settings,
            )
        )

    def create_agent(self, role: str = "agent") -> tuple[str, str]:
        assert self.db is not None
        email = f"agent-{secrets.token_hex(4)}@test.example"
        password = secrets.token_urlsafe(12)
        self.db.write_sync(
            lambda c: create_user(c, email=email, name="Agent " + email[6:10], password=password, role=role)
        )
        return email, password

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        if self.db is not None:
            self.db.close()
        if self.drop_database:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.drop_database}" WITH (FORCE)')


def build_stack(
    backend: str,
    processes: int | None = None,
    *,
    pg_port: int | None = None,
    redis_url: str | None = None,
    **overrides: str,
) -> Stack:
    """Servers on a fresh database. ``pg_port`` reaches PostgreSQL through another port
    (a proxy a test can cut); ``redis_url`` names a Redis of the test's own."""
    workdir = Path(tempfile.mkdtemp(prefix=f"parley-{backend}-"))
    drop = None
    if backend == "sqlite":
        database_url = f"sqlite:///{workdir / 'parley.db'}"
        bus_url = "memory://"
        processes = processes or 1
    else:
        import psycopg

        name = "parley_test_" + secrets.token_hex(4)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        drop = name
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        if pg_port is not None:
            base = base.rsplit(":", 1)[0] + f":{pg_port}"
        database_url = f"{base}/{name}"
        bus_url = f"{redis_url or REDIS_URL}?channel=parley.test.{name}"
        processes = processes or 2
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        "PARLEY_DATA_DIR": str(workdir),
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_BUS_URL": bus_url,
        "PARLEY_SECRET_KEY": secrets.token_urlsafe(40),
        "PARLEY_ENV_FILE": str(workdir / "none.env"),
        # Every frame a server sends is checked against its model (server/protocol.py).
        "PARLEY_CHECK_FRAMES": "true",
        **{f"PARLEY_{k.upper()}": str(v) for k, v in overrides.items()},
    }
    from server.config import load_settings

    settings = load_settings(env)
    upgrade(settings.database_url)
    stack = Stack(
        backend,
        settings.database_url,
        bus_url,
        workdir,
        env,
        db=Database(settings.database_url),
        drop_database=drop,
    )
    try:
        for i in range(processes):
            server = ServerProcess(env, workdir / f"server-{i}.log")
            server.start()
            stack.servers.append(server)
    except Exception:
        stack.close()
        raise
    return stack
