"""The bots' scheduled step: a bot's wait that ended resumes its run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.bots import runtime
from server.conversations import actions
from server.db import Database
from server.ids import utcnow
from server.realtime.bus import Bus


def bot_waits(db: Database, bus: Bus) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        due = await db.read(lambda c: runtime.due(c, utcnow()))
        for conversation_id in due:
            # The conversation's row lock decides, so two processes never both resume it.
            await actions.bot_wake(db, bus, conversation_id=conversation_id)

    return step
