"""Server processes for benchmarks, on free loopback ports, stopped when done."""

from __future__ import annotations

import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# Debian's Chromium, as the browser tests and `bench widget` drive it: Playwright's
# own browser download cannot work offline, and without the background-networking
# flags Chromium keeps trying to reach Google's hosts.
CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, health: str = "/healthz") -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        # A file, not a pipe: an unread pipe fills up and stalls the server.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server; closed in stop()
            prefix="parley-bench-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + health, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start within 30 s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        self.log.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def echo_server() -> Server:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.echo_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server(argv, dict(os.environ), port)


def parley_env(database_url: str | None, **overrides: str) -> dict[str, str]:
    workdir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        {
            "PARLEY_DATA_DIR": str(workdir),
            "PARLEY_ENV_FILE": str(workdir / "none.env"),
            "PARLEY_SECRET_KEY": secrets.token_urlsafe(40),
            # The load comes from one address as fast as it can: lift the abuse limits.
            "PARLEY_MESSAGES_PER_CONNECTION": "1000000",
            "PARLEY_MESSAGES_PER_IP": "100000000",
            "PARLEY_FRAMES_PER_CONNECTION": "1000000",
            "PARLEY_CONNECTIONS_PER_IP": "100000",
        }
    )
    if database_url:
        env["PARLEY_DATABASE_URL"] = database_url
    env.update(overrides)
    return env


def parley_server(env: dict[str, str]) -> Server:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "server",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return Server(argv, env, port)


def demo_shop(parley_url: str, site_key: str, env: dict[str, str] | None = None) -> Server:
    """The demo shop (``parley demo-site``) embedding the widget of one server for one site."""
    port = free_port()
    argv = [sys.executable, "-m", "server", "demo-site", "--port", str(port)]
    argv += ["--parley-url", parley_url, "--site-key", site_key]
    return Server(argv, env or dict(os.environ), port, health="/?nowidget")
