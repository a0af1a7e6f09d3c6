"""Work no request triggers: waking snoozed conversations, keeping agents' presence
current for routing, and trimming history on sites that cap it.

Every server process runs one. Each step is safe to run twice at once: waking
takes the conversation's row lock and does nothing to an open one, presence
rows are per process, and pruning deletes what another process may already
have deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from server.bots import runtime
from server.conversations import actions, store, workflow
from server.conversations.events import Author
from server.conversations.models import Conversation
from server.db import Database
from server.ids import new_id, utcnow
from server.realtime.bus import Bus
from server.realtime.connection import Connection as Socket
from server.realtime.hub import Hub
from server.sites.models import Site

log = logging.getLogger(__name__)

SNOOZE = Author("system", None, "Snooze")
TICK_S = 1.0
PRUNE_BATCH = 500

conversations = Conversation.__table__  # type: ignore[attr-defined]
sites = Site.__table__  # type: ignore[attr-defined]


class Housekeeper:
    def __init__(self, db: Database, bus: Bus, hub: Hub, prune_every_s: float = 60.0) -> None:
        self.db = db
        self.prune_every_s = prune_every_s
        self.bus = bus
        self.hub = hub
        self.process_id = new_id("proc")
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._presence_at = 0.0
        hub.join_hooks.append(self._changed)
        hub.leave_hooks.append(self._changed)

    def _changed(self, conn: Socket) -> None:
        if conn.kind == "agent":
            self._dirty.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.db.write(lambda c: workflow.refresh_presence(c, self.process_id, {}))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), TICK_S)
            for step in (self._presence, self._wake, self._bots, self._prune):
                try:
                    await step()
                except Exception:
                    log.exception("housekeeping step %s failed", step.__name__)

    async def _presence(self) -> None:
        now = time.monotonic()
        if not self._dirty.is_set() and now - self._presence_at < workflow.PRESENCE_REFRESH_S:
            return
        self._dirty.clear()
        self._presence_at = now
        counts = Counter(a.user_id for a in self.hub.agents if a.user_id and not a.closed)
        await self.db.write(lambda c: workflow.refresh_presence(c, self.process_id, dict(counts)))

    async def _wake(self) -> None:
        due = await self.db.read(lambda c: store.wake_snoozed(c, utcnow()))
        for conversation_id in due:
            # The row lock decides: a conversation woken (or reopened) elsewhere is left alone.
            await actions.wake(self.db, self.bus, conversation_id=conversation_id, by=SNOOZE)

    async def _bots(self) -> None:
        due = await self.db.read(lambda c: runtime.due(c, utcnow()))
        for conversation_id in due:  # the row lock decides, as for snoozes
            await actions.bot_wake(self.db, self.bus, conversation_id=conversation_id)

    async def _prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < self.prune_every_s:
            return
        since = None if not self._pruned_at else utcnow() - timedelta(seconds=2 * self.prune_every_s + 5)
        self._pruned_at = now
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
