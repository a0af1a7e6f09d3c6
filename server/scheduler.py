"""Work no request triggers, run in every server process.

Each part of the product contributes its steps when the services are built
(snooze wake-ups, agents' presence, bot waits, history pruning); the
scheduler runs them all once a tick, or at once when nudged, and one step
failing never stops the others. Steps must be safe to run in two processes
at once: each says how in its own docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    name: str
    run: Step
    on_stop: Step | None = None


class Scheduler:
    def __init__(self, tick_s: float = 1.0) -> None:
        self.tick_s = tick_s
        self.jobs: list[Job] = []
        self._nudged = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, name: str, run: Step, *, on_stop: Step | None = None) -> None:
        """Run ``run`` every tick; ``on_stop`` once when the process shuts down."""
        self.jobs.append(Job(name, run, on_stop))

    def nudge(self) -> None:
        """Run the steps now rather than at the next tick."""
        self._nudged.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for job in self.jobs:
            if job.on_stop is not None:
                with contextlib.suppress(Exception):
                    await job.on_stop()

    async def run_once(self) -> None:
        self._nudged.clear()
        for job in self.jobs:
            try:
                await job.run()
            except Exception:
                log.exception("scheduled step %s failed", job.name)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), self.tick_s)
            await self.run_once()
