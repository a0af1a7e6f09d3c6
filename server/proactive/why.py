"""Why did (or didn't) a message fire? Every live message, checked against one visitor.

The facts come from a recent visitor (their last visit, page and events) or
from test values typed by the admin; each condition is shown with the actual
value and whether it held, then the schedule, frequency and cap verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, func, or_, select

from server.channels.store import site_channels
from server.contacts.models import Visitor
from server.contacts.store import visitors
from server.errors import InvalidInput
from server.ids import iso, utcnow
from server.proactive import rules, store
from server.proactive.engine import DEFAULT_CAP, refs_for, visit_events
from server.sites.hours import Hours
from server.sites.models import Site
from server.tracking.models import PageView
from server.tracking.store import current_visit

page_views = PageView.__table__  # type: ignore[attr-defined]


@dataclass
class Check:
    message: dict[str, Any]
    conditions: list[rules.LeafResult]
    holds: bool
    schedule: tuple[bool, str]
    frequency: tuple[bool, str]
    cap: tuple[bool, str]
    channel: tuple[bool, str]
    fires: bool = False
    notes: list[str] = field(default_factory=list)


def recent_visitors(
    conn: Connection, site_id: str, query: str = "", now: datetime | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The site's latest visitors, each with a readable label (name, email, phone, or where
    they are), their last page and how long ago they were seen; ``query`` keeps those whose
    name, email or a page they saw contains it."""
    found = select(visitors).where(visitors.c.site_id == site_id)
    if query.strip():
        like = f"%{query.strip().lower()}%"
        saw = select(page_views.c.id).where(
            page_views.c.visitor_id == visitors.c.id, func.lower(page_views.c.url).like(like)
        )
        found = found.where(
            or_(func.lower(visitors.c.name).like(like), func.lower(visitors.c.email).like(like), saw.exists())
        )
    rows = conn.execute(found.order_by(visitors.c.last_seen_at.desc()).limit(limit)).mappings().all()
    last: dict[str, str] = {}
    if rows:
        ids = [r["id"] for r in rows]
        latest = (
            select(page_views.c.visitor_id, page_views.c.url, page_views.c.at)
            .where(page_views.c.visitor_id.in_(ids))
            .order_by(page_views.c.at)
        )
        for view in conn.execute(latest):
            last[view.visitor_id] = urlsplit(view.url or "").path or "/"
    moment = now or utcnow()
    return [
        {
            "id": r["id"],
            "label": best_name(r),
            "email": r["email"],
            "page": last.get(r["id"]),
            "last_seen_at": iso(r["last_seen_at"]),
            "seen": ago(r["last_seen_at"], moment),
        }
        for r in rows
    ]


def best_name(visitor: Any) -> str:
    """What they told us, else where they are ("Visitor from Lisbon"), as the workspace says."""
    for key in ("name", "email", "phone"):
        if visitor[key]:
            return str(visitor[key])
    zone = visitor["timezone"] or ""
    city = zone.rsplit("/", 1)[-1].replace("_", " ") if "/" in zone else ""
    return f"Visitor from {city}" if city else f"Anonymous visitor {visitor['id'][-4:]}"


def ago(moment: datetime, now: datetime) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "yesterday", "4 days ago"."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        count = seconds // size
        if count:
            if unit == "day" and count == 1:
                return "yesterday"
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def facts_of_visitor(
    conn: Connection, site_id: str, visitor_id: str, now: datetime
) -> tuple[rules.Facts, str, str]:
    """(facts, visit id, channel kind) for a recent visitor, as of their last page."""
    row = (
        conn.execute(select(visitors).where(visitors.c.id == visitor_id, visitors.c.site_id == site_id))
        .mappings()
        .first()
    )
    if row is None:
        raise InvalidInput(f"no visitor {visitor_id!r} on this site", code="visitor_not_found")
    visitor = Visitor.model_validate(dict(row))
    visit = current_visit(conn, visitor.id)
    page = (
        conn.execute(
            select(page_views)
            .where(page_views.c.visitor_id == visitor.id)
            .order_by(page_views.c.at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    last: dict[str, Any] = dict(page) if page is not None else {}
    facts = rules.Facts(
        now=now,
        page_url=last.get("url") or "",
        page_title=last.get("title") or "",
        page_referrer=last.get("referrer") or "",
        page_since=last.get("at"),
        visit_since=visit.started_at,
        visits=visitor.visit_count,
        device=visit.device,
        browser=visit.browser,
        os=visit.os,
        language=visitor.locale,
        timezone=visitor.timezone,
        utm=visit.utm,
        events=visit_events(conn, visitor.id, visit.started_at),
        attributes=visitor.attributes,
        refs=refs_for(conn, visitor),
    )
    return facts, visit.id, "web" if visitor.client_kind == "web" else "sdk"


def facts_of_test(values: dict[str, Any], now: datetime) -> rules.Facts:
    """Facts typed by an admin: page.url, time_on_page, visits, device, event.NAME, attribute.KEY, …"""
    from datetime import timedelta

    def number(key: str) -> float:
        try:
            return float(values.get(key) or 0)
        except (TypeError, ValueError):
            raise InvalidInput(f"{key} must be a number", code="invalid_parameter") from None

    events = {k[6:]: int(number(k)) for k in values if k.startswith("event.")}
    attributes = {k[10:]: v for k, v in values.items() if k.startswith("attribute.")}
    return rules.Facts(
        now=now,
        page_url=str(values.get("page.url") or ""),
        page_title=str(values.get("page.title") or ""),
        page_referrer=str(values.get("page.referrer") or ""),
        page_since=now - timedelta(seconds=number("time_on_page")),
        visit_since=now - timedelta(seconds=number("time_on_site")),
        visits=int(number("visits") or 1),
        device=values.get("device") or None,
        browser=values.get("browser") or None,
        os=values.get("os") or None,
        language=values.get("language") or None,
        timezone=values.get("timezone") or None,
        utm={k[4:]: v for k, v in values.items() if k.startswith("utm.") and v},
        events=events,
        attributes=attributes,
        refs={k: str(values[k]) if values.get(k) else None for k in rules.REF_FIELDS},
    )


def explain(
    conn: Connection,
    site: Site,
    *,
    visitor_id: str | None = None,
    test: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> list[Check]:
    now = now or utcnow()
    visit_id = None
    kind = "web"
    if visitor_id:
        facts, visit_id, kind = facts_of_visitor(conn, site.id, visitor_id, now)
    else:
        facts = facts_of_test(test or {}, now)
    settings = site.settings.get("proactive") or {}
    hours = Hours.parse(settings.get("business_hours"))
    cap = int(settings.get("cap_per_visit", DEFAULT_CAP))
    shown = store.shown_this_visit(conn, visit_id) if visit_id else 0
    channels = {c.id: c for c in site_channels(conn, site.id)}
    checks = []
    live = [m for m in store.site_messages(conn, site.id) if m.status == "live"]
    for msg in sorted(live, key=lambda m: (m.priority, m.created_at)):
        leaves: list[rules.LeafResult] = []
        verdict = rules.evaluate(msg.conditions, facts, leaves)
        allowed = rules.schedule_allows(msg.schedule, hours, now)
        schedule = (allowed, _schedule_words(msg.schedule, hours, now))
        if visitor_id and visit_id:
            frequency = store.frequency_allows(conn, msg, visitor_id, visit_id)
        else:
            frequency = (True, f"{msg.frequency.replace('_', ' ')}: a test visitor has seen nothing")
        room = shown < cap
        cap_verdict = (room, f"{shown} of {cap} proactive message(s) shown in this visit")
        chan = channels.get(msg.channel_id or "")
        channel = (
            chan is not None and chan.kind == kind,
            f"channel {chan.name if chan else '?'} ({chan.kind if chan else '?'}); the visitor uses {kind}",
        )
        check = Check(
            message={"id": msg.id, "name": msg.name, "priority": msg.priority, "trigger": msg.trigger},
            conditions=leaves,
            holds=verdict.holds,
            schedule=schedule,
            frequency=frequency,
            cap=cap_verdict,
            channel=channel,
        )
        if verdict.at is not None:
            check.notes.append(f"the time conditions will hold at {iso(verdict.at)}")
        check.fires = all((verdict.holds, schedule[0], frequency[0], room, channel[0]))
        checks.append(check)
    # Only the first that fires takes the last place under the cap.
    taken = shown
    for check in checks:
        if check.fires:
            if taken >= cap:
                check.fires = False
                check.cap = (False, f"a message before it in priority takes the visitor's cap of {cap}")
            taken += 1
    return checks


def _schedule_words(schedule: str, hours: Hours, now: datetime) -> str:
    if schedule == "any":
        return "any time"
    state = "open" if hours.open_at(now) else "closed"
    wanted = "during business hours" if schedule == "business_hours" else "outside business hours"
    return f"{wanted}; now the business is {state} ({hours.timezone})"


def as_json(checks: list[Check]) -> list[dict[str, Any]]:
    return [
        {
            "message": c.message,
            "fires": c.fires,
            "conditions_hold": c.holds,
            "conditions": [
                {
                    "field": leaf.field,
                    "op": leaf.op,
                    "expected": leaf.expected,
                    "actual": leaf.actual,
                    "holds": leaf.holds,
                }
                for leaf in c.conditions
            ],
            "schedule": {"ok": c.schedule[0], "why": c.schedule[1]},
            "frequency": {"ok": c.frequency[0], "why": c.frequency[1]},
            "cap": {"ok": c.cap[0], "why": c.cap[1]},
            "channel": {"ok": c.channel[0], "why": c.channel[1]},
            "notes": c.notes,
        }
        for c in checks
    ]
