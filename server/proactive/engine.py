"""The proactive engine: evaluates live rules for each visitor socket and shows what fires.

Each server process keeps, per site, its live messages indexed by trigger,
reloaded when any process publishes ``proactive.changed`` on the bus. A
visitor socket carries a ``Context`` (visit, page, events, attributes);
page loads, events and timers evaluate only the rules of that trigger.
Conditions that fail only because not enough time has passed set a timer for
the exact moment they will hold; a new page or a closed socket cancels it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection as Db
from sqlalchemy import func, select

from server.channels.models import Channel
from server.channels.store import channels, site_channels
from server.contacts import refs
from server.contacts.models import Visitor
from server.conversations.models import Conversation
from server.ids import iso, new_id, utcnow
from server.proactive import rules, store
from server.proactive.models import ProactiveMessage
from server.proactive.store import messages
from server.realtime import envelopes
from server.realtime.bus import Bus
from server.realtime.connection import Connection
from server.realtime.envelopes import Envelope
from server.sites.hours import Hours
from server.sites.models import Site
from server.tracking.models import TrackedEvent, Visit

log = logging.getLogger(__name__)
events_table = TrackedEvent.__table__  # type: ignore[attr-defined]
conversations = Conversation.__table__  # type: ignore[attr-defined]
CACHE_S = 60.0  # a safety net: changes arrive over the bus at once
DEFAULT_CAP = 1


@dataclass
class Live:
    """A live message, ready to evaluate."""

    msg: ProactiveMessage
    channel: Channel


@dataclass
class SiteRules:
    loaded_at: float
    by_trigger: dict[str, list[Live]]
    hours: Hours
    cap: int


@dataclass
class Context:
    """What the engine knows about one visitor socket."""

    site: Site
    visitor_id: str
    visit: Visit
    visits: int
    channel_kind: str  # web | sdk
    language: str | None
    timezone: str | None
    attributes: dict[str, Any]
    events: Counter[str]
    refs: dict[str, str | None] = field(default_factory=dict)
    page_url: str = ""
    page_title: str = ""
    page_referrer: str = ""
    page_since: datetime | None = None
    occasion: str = ""
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)

    def facts(self, now: datetime) -> rules.Facts:
        return rules.Facts(
            now=now,
            page_url=self.page_url,
            page_title=self.page_title,
            page_referrer=self.page_referrer,
            page_since=self.page_since,
            visit_since=self.visit.started_at,
            visits=self.visits,
            device=self.visit.device,
            browser=self.visit.browser,
            os=self.visit.os,
            language=self.language,
            timezone=self.timezone,
            utm=self.visit.utm,
            events=self.events,
            attributes=self.attributes,
            refs=self.refs,
        )

    def cancel_timers(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()


def visit_events(conn: Db, visitor_id: str, since: datetime) -> Counter[str]:
    rows = conn.execute(
        select(events_table.c.name, func.count())
        .where(events_table.c.visitor_id == visitor_id, events_table.c.at >= since)
        .group_by(events_table.c.name)
    ).all()
    return Counter({r[0]: r[1] for r in rows})


class Engine:
    def __init__(self, db: Any, bus: Bus, send: Any) -> None:
        self.db = db
        self.bus = bus
        self.send = send  # (conn, frame) -> awaitable: queue a frame on a socket
        self._sites: dict[str, SiteRules] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- the rules of a site -------------------------------------------------------------

    async def rules_of(self, site: Site) -> SiteRules:
        cached = self._sites.get(site.id)
        if cached is not None and time.monotonic() - cached.loaded_at < CACHE_S:
            return cached
        loaded = await self.db.read(lambda c: _load(c, site))
        self._sites[site.id] = loaded
        return loaded

    def forget(self, envelope: Envelope) -> None:
        """A ``proactive.changed`` envelope: reload that site's rules next time."""
        self._sites.pop(envelope.get("site_id", ""), None)

    async def changed(self, site_id: str) -> None:
        """Tell every process (this one included) that a site's messages changed."""
        self._sites.pop(site_id, None)
        await self.bus.publish(envelopes.proactive_changed(site_id))

    # -- what a visitor does ---------------------------------------------------------------

    async def page_loaded(self, conn: Connection, page: Any) -> None:
        """A page (or app screen) the visitor is on: from hello, or a page.view.

        With the client's page id and elapsed seconds, a reconnect from the same
        page is the same occasion at the same age: nothing fires twice, and
        timers keep their moment.
        """
        ctx: Context | None = conn.proactive
        if ctx is None:
            return
        ctx.cancel_timers()
        ctx.page_url, ctx.page_title, ctx.page_referrer = (
            page.url or "",
            page.title or "",
            page.referrer or "",
        )
        ctx.page_since = utcnow() - timedelta(seconds=page.elapsed_s or 0)
        ctx.occasion = f"pg:{page.id}" if page.id else new_id("pg")
        site = await self.rules_of(ctx.site)
        now = utcnow()
        ready: list[Live] = list(site.by_trigger.get("page_load", []))
        for live in site.by_trigger.get("time_on_page", []):
            self._at(conn, live, ctx.page_since, live.msg.trigger["seconds"], ready, now)
        for live in site.by_trigger.get("time_on_site", []):
            self._at(conn, live, ctx.visit.started_at, live.msg.trigger["seconds"], ready, now)
        await self.consider(conn, ready, ctx.occasion)

    def _at(
        self, conn: Connection, live: Live, since: datetime, seconds: int, ready: list[Live], now: datetime
    ) -> None:
        due = since.timestamp() + seconds
        if due <= now.timestamp():
            ready.append(live)
        else:
            self._timer(conn, live, due - now.timestamp())

    def _timer(self, conn: Connection, live: Live, delay: float) -> None:
        ctx: Context = conn.proactive
        occasion = ctx.occasion
        old = ctx.timers.pop(live.msg.id, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            ctx.timers.pop(live.msg.id, None)
            if not conn.closed and ctx.occasion == occasion:
                self._spawn(self.consider(conn, [live], occasion))

        ctx.timers[live.msg.id] = asyncio.get_running_loop().call_later(max(0.0, delay), fire)

    async def event(self, conn: Connection, name: str) -> None:
        ctx: Context | None = conn.proactive
        if ctx is None:
            return
        ctx.events[name] += 1
        site = await self.rules_of(ctx.site)
        ready = [live for live in site.by_trigger.get("event", []) if live.msg.trigger.get("name") == name]
        await self.consider(conn, ready, f"{ctx.occasion}:{name}:{ctx.events[name]}")

    def leave(self, conn: Connection) -> None:
        ctx: Context | None = conn.proactive
        if ctx is not None:
            ctx.cancel_timers()

    # -- deciding ----------------------------------------------------------------------------

    async def consider(self, conn: Connection, candidates: list[Live], occasion: str) -> None:
        """Evaluate candidates now; show the first (by priority) that holds and that
        frequency and the visitor's cap allow; time what will hold later."""
        ctx: Context | None = conn.proactive
        if ctx is None or conn.closed or not candidates:
            return
        site = await self.rules_of(ctx.site)
        still = {lv.msg.id for lives in site.by_trigger.values() for lv in lives}
        now = utcnow()
        facts = ctx.facts(now)
        holding = []
        for live in candidates:
            if live.channel.kind != ctx.channel_kind or live.msg.id not in still:
                continue  # another channel, or paused / changed since its timer was set
            verdict = rules.evaluate(live.msg.conditions, facts)
            if verdict.holds:
                if rules.schedule_allows(live.msg.schedule, site.hours, now):
                    holding.append(live)
            elif verdict.at is not None:
                self._timer(conn, live, (verdict.at - now).total_seconds())
        holding.sort(key=lambda live: (live.msg.priority, live.msg.created_at))
        for live in holding:
            delivery = await self.db.write(
                lambda c, live=live: store.deliver(
                    c,
                    msg=live.msg,
                    visitor_id=ctx.visitor_id,
                    visit_id=ctx.visit.id,
                    occasion=occasion,
                    cap=site.cap,
                )
            )
            if delivery is not None:
                await self.send(conn, show_frame(live, delivery))
                return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a proactive timer failed", exc_info=task.exception())


def _load(conn: Db, site: Site) -> SiteRules:
    rows = conn.execute(
        select(messages, channels.c.kind.label("channel_kind"))
        .join(channels, channels.c.id == messages.c.channel_id)
        .where(messages.c.site_id == site.id, messages.c.status == "live", channels.c.enabled)
    ).mappings()
    by_trigger: dict[str, list[Live]] = {}
    by_id = {c.id: c for c in site_channels(conn, site.id)}
    for row in rows:
        data = {k: v for k, v in row.items() if k != "channel_kind"}
        msg = ProactiveMessage.model_validate(data)
        channel = by_id.get(msg.channel_id or "")
        if channel is not None:
            by_trigger.setdefault(msg.trigger.get("type", "page_load"), []).append(Live(msg, channel))
    # Fresh from the database: the socket's copy of the site may predate a change.
    from server.sites.store import site_by_id

    settings = site_by_id(conn, site.id).settings.get("proactive") or {}
    try:
        hours = Hours.parse(settings.get("business_hours"))
    except Exception:
        log.warning("site %s has invalid business hours; treating every hour as closed", site.id)
        hours = Hours()
    return SiteRules(time.monotonic(), by_trigger, hours, int(settings.get("cap_per_visit", DEFAULT_CAP)))


def show_frame(live: Live, delivery: store.Delivery) -> dict[str, Any]:
    msg = live.msg
    return {
        "type": "proactive.show",
        "delivery_id": delivery.id,
        "message_id": msg.id,
        "response": msg.response,
        "text": msg.text,
        "collect": msg.asks_for,
        "sender": {"name": live.channel.sender_name or None, "avatar_url": live.channel.sender_avatar_url},
        "shown_at": iso(delivery.shown_at),
    }


def context_for(conn: Db, site: Site, visitor: Visitor, visit: Visit, client_kind: str) -> Context:
    """A socket's context, from the visitor and visit its hello just resolved."""
    return Context(
        site=site,
        visitor_id=visitor.id,
        visit=visit,
        visits=visitor.visit_count,
        channel_kind="web" if client_kind == "web" else "sdk",
        language=visitor.locale,
        timezone=visitor.timezone,
        attributes=dict(visitor.attributes),
        events=visit_events(conn, visitor.id, visit.started_at),
        refs=refs_for(conn, visitor),
    )


def refs_for(conn: Db, visitor: Visitor) -> dict[str, str | None]:
    """The link references rules read: the contact's latest and first (on the visitor
    as read), and its open conversation's."""
    open_ref = conn.execute(
        select(conversations.c.ref)
        .where(conversations.c.visitor_id == visitor.id, conversations.c.status != "closed")
        .order_by(conversations.c.last_activity_at.desc())
        .limit(1)
    ).scalar()
    return {
        "contact.ref": refs.word(visitor.latest_ref),
        "contact.first_ref": refs.word(visitor.first_ref),
        "conversation.ref": refs.word(open_ref),
    }
