"""The conversations' scheduled steps (server/scheduler.py runs them): waking snoozed
conversations, keeping agents' presence current for routing, and trimming history
on sites that cap it.

Each is safe to run in two processes at once: waking takes the conversation's row
lock and does nothing to an open one, presence rows are per process, and pruning
deletes what another process may already have deleted.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from server.conversations import actions, store, workflow
from server.conversations.events import Author
from server.conversations.models import Conversation
from server.db import Database
from server.ids import new_id, utcnow
from server.realtime.bus import Bus
from server.sites.models import Site

SNOOZE = Author("system", None, "Snooze")
PRUNE_BATCH = 500

conversations = Conversation.__table__  # type: ignore[attr-defined]
sites = Site.__table__  # type: ignore[attr-defined]


class Presence:
    """This process's agents, per user, in ``agent_presence``: routing picks among them.

    ``counts`` says how many sockets each signed-in agent has here now; ``changed``
    (an agent socket came or went) makes the next step write at once.
    """

    def __init__(self, db: Database, counts: Callable[[], dict[str, int]]) -> None:
        self.db = db
        self.counts = counts
        self.process_id = new_id("proc")
        self._dirty = True
        self._at = 0.0

    def changed(self) -> None:
        self._dirty = True

    async def step(self) -> None:
        now = time.monotonic()
        if not self._dirty and now - self._at < workflow.PRESENCE_REFRESH_S:
            return
        self._dirty = False
        self._at = now
        counts = self.counts()
        await self.db.write(lambda c: workflow.refresh_presence(c, self.process_id, counts))

    async def clear(self) -> None:
        await self.db.write(lambda c: workflow.refresh_presence(c, self.process_id, {}))


def snooze_wakes(db: Database, bus: Bus) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        due = await db.read(lambda c: store.wake_snoozed(c, utcnow()))
        for conversation_id in due:
            # The row lock decides: a conversation woken (or reopened) elsewhere is left alone.
            await actions.wake(db, bus, conversation_id=conversation_id, by=SNOOZE)

    return step


class Pruner:
    """Every ``every_s``, conversations of capped sites lose their oldest events."""

    def __init__(self, db: Database, every_s: float) -> None:
        self.db = db
        self.every_s = every_s
        self._at = 0.0

    async def step(self) -> None:
        now = time.monotonic()
        if now - self._at < self.every_s:
            return
        since = None if not self._at else utcnow() - timedelta(seconds=2 * self.every_s + 5)
        self._at = now
        targets = await self.db.read(lambda c: _over_cap(c, since))
        for conversation_id, keep in targets:
            await self.db.write(lambda c, cid=conversation_id, k=keep: store.prune_history(c, cid, k))


def _over_cap(conn: Connection, since: Any) -> list[tuple[str, int]]:
    """Conversations (active since ``since``) of capped sites with more events than the cap."""
    found: list[tuple[str, int]] = []
    for site_id, settings in conn.execute(select(sites.c.id, sites.c.settings)):
        cap = workflow.settings_of(settings or {})["history_cap"]
        if not cap:
            continue
        query = select(conversations.c.id).where(
            conversations.c.site_id == site_id, conversations.c.last_seq > cap
        )
        if since is not None:
            query = query.where(conversations.c.last_activity_at >= since)
        found += [(r[0], cap) for r in conn.execute(query.limit(PRUNE_BATCH))]
    return found
