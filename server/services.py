"""The services of one server process, built at start-up and shared by every route."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from server import outgoing
from server.accounts.access import access_of
from server.accounts.store import session_user, user_by_id
from server.bots.automation import TURNS
from server.bots.waits import bot_waits
from server.config import Settings
from server.contacts.runner import ImportRunner
from server.conversations import automation, housekeeping, queries
from server.db import Database
from server.errors import NotFound
from server.exports import ExportRunner
from server.proactive.engine import Engine
from server.realtime import envelopes
from server.realtime.bus import Bus, bus_from_url
from server.realtime.connection import Connection
from server.realtime.envelopes import Envelope, Kind
from server.realtime.hub import Hub, Readers
from server.realtime.limits import KeyedBuckets
from server.scheduler import Scheduler
from server.sites.models import Site
from server.sites.store import site_by_key, update_settings
from server.tokens import Tokens

SITE_CACHE_S = 30.0


@dataclass
class SiteCache:
    """Sites by public key, kept briefly: every socket handshake looks one up.

    A change to a site publishes ``site.changed``; every process drops its copy
    when the envelope arrives (it used to be this process only, so the others
    served the old settings for up to SITE_CACHE_S).
    """

    db: Database
    bus: Bus
    _entries: dict[str, tuple[float, Site | None]] = field(default_factory=dict)

    async def by_key(self, key: str) -> Site | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < SITE_CACHE_S:
            return hit[1]
        site = await self.db.read(site_by_key, key)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (now, site)
        return site

    async def known(self, key: str) -> Site:
        """The site with this key, or 404 ``site_unknown``."""
        site = await self.by_key(key)
        if site is None:
            raise NotFound(f"no site {key!r}", code="site_unknown")
        return site

    async def change(self, site_id: str, section: str | None, changes: dict[str, Any]) -> Site:
        """Merge ``changes`` into a section of a site's settings; then every process forgets it."""
        site = await self.db.write(lambda c: update_settings(c, site_id, section, changes))
        await self.changed(site.key)
        return site

    async def changed(self, key: str) -> None:
        """Call after committing a change to the site: every process forgets its copy."""
        self._entries.pop(key, None)
        await self.bus.publish(envelopes.site_changed(key))

    def forget(self, envelope: Envelope) -> None:
        self._entries.pop(envelope["key"], None)


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: Bus
    hub: Hub
    tokens: Tokens
    sites: SiteCache
    ip_messages: KeyedBuckets
    proactive: Engine
    scheduler: Scheduler

    @classmethod
    def build(cls, settings: Settings) -> Services:
        automation.use_bots(TURNS)  # bots' turns run inside conversations' transactions
        outgoing.check_outgoing(settings.check_frames)
        db = Database(settings.database_url)
        bus = bus_from_url(settings.bus_url)
        hub = Hub(bus, settings, _readers(db))

        async def send(conn: Connection, frame: dict[str, Any]) -> None:
            hub.enqueue(conn, frame)

        engine = Engine(db, bus, send)
        hub.leave_hooks.append(engine.leave)
        hub.control_hooks[Kind.PROACTIVE_CHANGED] = engine.forget
        sites = SiteCache(db, bus)
        hub.control_hooks[Kind.SITE_CHANGED] = sites.forget
        return cls(
            scheduler=_scheduler(db, bus, hub, settings),
            settings=settings,
            db=db,
            bus=bus,
            hub=hub,
            proactive=engine,
            tokens=Tokens(settings.secret_key, settings.visitor_token_max_age_s, settings.session_max_age_s),
            sites=sites,
            ip_messages=KeyedBuckets(settings.messages_per_ip, settings.rate_window_s),
        )

    async def start(self) -> None:
        await self.bus.connect()
        await self.hub.start()
        await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.hub.stop()
        await self.bus.disconnect()
        self.db.close()


def _readers(db: Database) -> Readers:
    """What the hub needs to read, from accounts and conversations."""

    async def session_valid(conn: Connection) -> bool:
        def valid(c: Any) -> bool:
            user, live = session_user(c, conn.user_id or "", conn.session_id or "")
            return bool(
                live
                and user is not None
                and conn.user is not None
                and user.is_active
                and user.session_version == conn.user.session_version
            )

        return bool(await db.read(valid))

    async def access(user_id: str) -> Any:
        def load(c: Any) -> Any:
            user = user_by_id(c, user_id)
            return None if user is None else access_of(c, user)

        return await db.read(load)

    async def replay_window(
        conversation_id: str, after: int, limit: int, up_to: int | None
    ) -> dict[str, Any] | None:
        return await db.read(queries.replay_window, conversation_id, after, limit, up_to)

    return Readers(session_valid=session_valid, access=access, replay_window=replay_window)


def _scheduler(db: Database, bus: Bus, hub: Hub, settings: Settings) -> Scheduler:
    """Each part's periodic work, in the order it runs every tick."""
    scheduler = Scheduler()
    presence = housekeeping.Presence(
        db, lambda: dict(Counter(a.user_id for a in hub.agents if a.user_id and not a.closed))
    )

    def agent_came_or_went(conn: Connection) -> None:
        if conn.kind == "agent":
            presence.changed()
            scheduler.nudge()

    hub.join_hooks.append(agent_came_or_went)
    hub.leave_hooks.append(agent_came_or_went)
    scheduler.add("presence", presence.step, on_stop=presence.clear)
    scheduler.add("snooze wake-ups", housekeeping.snooze_wakes(db, bus))
    scheduler.add("bot waits", bot_waits(db, bus))
    scheduler.add("history pruning", housekeeping.Pruner(db, settings.history_prune_interval_s).step)
    runner = ImportRunner(db, settings.job_lease_s)
    scheduler.add("contact imports", runner.step, on_stop=runner.stop)
    exporter = ExportRunner(db, settings.job_lease_s)
    scheduler.add("contact exports", exporter.step, on_stop=exporter.stop)
    return scheduler


def services_of(conn: HTTPConnection) -> Services:
    """The services of the app serving a request or socket."""
    services: Services = conn.app.state.services
    return services
