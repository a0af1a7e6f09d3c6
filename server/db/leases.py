"""Leased jobs: work that a table's row describes and that any process may run, one
process at a time, surviving the death of the one running it.

A job's row has ``status`` (queued | running | …), ``lease_until`` and ``created_at``.
It is free while queued, or while running with its lease run out (the process running
it went quiet). Each process's scheduler looks for a free job with a read (the usual
case: nothing), takes the oldest with a conditional UPDATE (so of two processes that
look, one wins), and runs it while renewing the lease as it goes. Imports and exports
of contacts are leased jobs (docs/contacts.md); issue 15's durable jobs will take
their place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Table, select, update

from server.db.database import Database
from server.ids import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


def free(table: Table, now: datetime) -> Any:
    """The condition: the job is queued, or running with its lease run out."""
    return table.c.status.in_(("queued", "running")) & (
        table.c.lease_until.is_(None) | (table.c.lease_until < now)
    )


def waiting(conn: Connection, table: Table, now: datetime) -> bool:
    return conn.execute(select(table.c.id).where(free(table, now)).limit(1)).first() is not None


def take_oldest(conn: Connection, table: Table, now: datetime, lease_until: datetime) -> str | None:
    """The oldest free job's id, now running under a lease to this process; None when
    there is none, or another process took it first."""
    candidate = conn.execute(
        select(table.c.id).where(free(table, now)).order_by(table.c.created_at).limit(1)
    ).scalar()
    if candidate is None:
        return None
    taken = conn.execute(
        update(table)
        .where(table.c.id == candidate, free(table, now))
        .values(status="running", lease_until=lease_until)
    )
    return str(candidate) if taken.rowcount == 1 else None


class Runner(Generic[T]):
    """A scheduler step that runs one job of a kind at a time in this process:
    ``claim(conn, now, lease_until)`` takes one (in the write transaction), ``run(job)``
    does it."""

    def __init__(
        self,
        db: Database,
        table: Table,
        lease_s: float,
        claim: Callable[[Connection, datetime, datetime], T | None],
        run: Callable[[T], Coroutine[Any, Any, None]],
    ) -> None:
        self.db = db
        self.table = table
        self.lease = timedelta(seconds=lease_s)
        self.claim = claim
        self.run = run
        self.task: asyncio.Task[None] | None = None

    async def step(self) -> None:
        if self.task is not None and not self.task.done():
            return
        now = utcnow()
        if not await self.db.read(lambda c: waiting(c, self.table, now)):
            return  # the usual case: a read, not a write, every tick
        claimed = await self.db.write(lambda c: self.claim(c, now, now + self.lease))
        if claimed is not None:
            self.task = asyncio.create_task(self.run(claimed))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
