"""A site's business hours, shared by proactive schedules, away messages and routing.

They live in ``site.settings["proactive"]["business_hours"]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Hours:
    """A site's business hours: a weekly plan in a time zone, minus holidays."""

    timezone: str = "UTC"
    weekly: Mapping[str, list[list[str]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, raw: Any) -> Hours:
        """From ``{"timezone", "weekly": {"mon": [["09:00", "17:30"]], …}, "holidays": ["2026-12-25"]}``."""
        if not raw:
            return cls()
        if not isinstance(raw, dict):
            raise InvalidInput(
                "business hours must be an object", code="invalid_setting", field="business_hours"
            )
        zone = raw.get("timezone", "UTC")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidInput(
                f"unknown time zone {zone!r}", code="invalid_setting", field="business_hours.timezone"
            ) from None
        weekly = raw.get("weekly", {})
        if not isinstance(weekly, dict) or set(weekly) - set(DAYS):
            raise InvalidInput(
                f"weekly takes the days {', '.join(DAYS)}",
                code="invalid_setting",
                field="business_hours.weekly",
            )
        for day, spans in weekly.items():
            for span in spans:
                if not (
                    isinstance(span, list)
                    and len(span) == 2
                    and all(isinstance(t, str) and re.match(r"^([01]\d|2[0-4]):[0-5]\d$", t) for t in span)
                    and span[0] < span[1]
                ):
                    raise InvalidInput(
                        f'{day}: each span is ["HH:MM", "HH:MM"], start before end',
                        code="invalid_setting",
                        field=f"business_hours.weekly.{day}",
                    )
        try:
            holidays = frozenset(date.fromisoformat(d) for d in raw.get("holidays", []))
        except (TypeError, ValueError):
            raise InvalidInput(
                "holidays are dates like 2026-12-25", code="invalid_setting", field="business_hours.holidays"
            ) from None
        return cls(zone, weekly, holidays)

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        clock = local.strftime("%H:%M")
        return any(start <= clock < end for start, end in self.weekly.get(DAYS[local.weekday()], []))

    def next_open(self, moment: datetime) -> datetime | None:
        """When the team is next open from ``moment`` (``moment`` itself when open now), or
        None when the plan has no opening in the next two weeks (no hours at all, say)."""
        if self.open_at(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        for ahead in range(15):
            day = (local + timedelta(days=ahead)).date()
            if day in self.holidays:
                continue
            for start, _ in sorted(self.weekly.get(DAYS[day.weekday()], [])):
                at = datetime.combine(day, time.fromisoformat(start), zone)
                if at > local:
                    return at
        return None
