"""Commit, then publish: how every action reaches the bus.

A store step takes the connection, changes rows and returns ``Done``: its
result and the envelopes its change implies. ``commit`` runs one step (often
several composed) in one write transaction and publishes those envelopes only
after the commit, in order; a rolled-back step publishes nothing. (Zulip's
``send_event_on_commit`` is the same idea.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from server.db import Database
from server.realtime.bus import Bus
from server.realtime.envelopes import Envelope

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a store step did: its result, and the envelopes to publish once it commits."""

    value: T
    envelopes: list[Envelope] = field(default_factory=list)


async def commit(
    db: Database,
    bus: Bus,
    step: Callable[[Connection], Done[T]],
    *,
    retry_on: tuple[type[Exception], ...] = (),
) -> T:
    """Run ``step`` in one transaction (once more after one of ``retry_on``), then publish."""
    try:
        done = await db.write(step)
    except retry_on as exc:
        log.info("retrying %s after %r", getattr(step, "__name__", "a step"), exc)
        done = await db.write(step)
    for envelope in done.envelopes:
        await bus.publish(envelope)
    return done.value


def done(value: Any = None, *envelopes: Envelope) -> Done[Any]:
    return Done(value, list(envelopes))
