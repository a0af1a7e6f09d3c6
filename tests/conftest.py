"""Fixtures: every test runs against real servers, on SQLite and on PostgreSQL + Redis.

Without PostgreSQL or Redis the PostgreSQL runs are not run and the summary
says so plainly; under CI=true their absence fails the run instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.harness import LIVE, Stack, build_stack, postgres_problem, redis_problem

BACKENDS = ["sqlite", "postgres"]
_missing: list[str] = []
_not_run: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    problems = [p for p in (postgres_problem(), redis_problem()) if p]
    _missing.extend(problems)
    if problems and os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(
            "CI=true, so the PostgreSQL + Redis tests must run, but:\n  " + "\n  ".join(problems)
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if _missing and callspec is not None and "postgres" in callspec.params.values():
            _not_run.append(item.nodeid)
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL and Redis: " + "; ".join(_missing)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _not_run:
        terminalreporter.write_sep("=", "integration tests NOT RUN", yellow=True, bold=True)
        for problem in _missing:
            terminalreporter.write_line("missing: " + problem)
        terminalreporter.write_line(f"{len(_not_run)} PostgreSQL + Redis tests did not run, e.g.:")
        for nodeid in _not_run[:10]:
            terminalreporter.write_line("  " + nodeid)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Servers with the default settings, shared by a test module."""
    built = build_stack(request.param)
    yield built
    built.close()


@pytest.fixture(scope="module", params=["postgres"])
def processes(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Two processes on PostgreSQL and Redis, for tests that read what is published
    off the bus (tests.helpers.bus_tap), where the processes meet."""
    built = build_stack(request.param)
    yield built
    built.close()


@pytest.fixture(scope="module", params=BACKENDS)
def tight_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Servers with small limits and short timeouts, to reach every limit quickly."""
    built = build_stack(
        request.param,
        max_message_chars="50",
        max_frame_bytes="2048",
        messages_per_connection="5",
        messages_per_ip="8",
        frames_per_connection="30",
        rate_window_s="60",
        idle_timeout_s="1.5",
        hello_timeout_s="1",
        heartbeat_interval_s="0.5",
        replay_limit="5",
        connections_per_ip="40",
    )
    yield built
    built.close()


@pytest.fixture(autouse=True)
def wire_contract() -> Iterator[None]:
    """Every frame a server sent during the test matched its model in server/protocol.py
    (the servers check each one as they encode it and log any that does not)."""
    for server in list(LIVE):
        server.contract_breaks()
    yield
    broken = [line for server in list(LIVE) for line in server.contract_breaks()]
    if broken:
        pytest.fail("a frame broke the protocol's models:\n" + "\n".join(broken[:5]), pytrace=False)
