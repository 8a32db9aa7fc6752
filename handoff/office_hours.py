"""Office hours of the social workers, from `data/gemeente.yml` (opening_hours).

Outside office hours the desk says honestly when a worker will answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DUTCH_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


class HoursError(ValueError):
    """The opening hours are malformed; the message says which day."""


@dataclass(frozen=True)
class OfficeHours:
    timezone: ZoneInfo
    week: tuple[tuple[tuple[dt.time, dt.time], ...], ...]
    """Per weekday (Monday first): the open intervals."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OfficeHours:
        zone = ZoneInfo(str(settings.get("timezone") or "Europe/Amsterdam"))
        week = []
        for day in DAYS:
            intervals = []
            for part in str(settings.get(day) or "").split(","):
                part = part.strip()
                if not part:
                    continue
                try:
                    start_s, end_s = part.split("-")
                    start, end = dt.time.fromisoformat(start_s.strip()), dt.time.fromisoformat(end_s.strip())
                except ValueError as exc:
                    raise HoursError(f"opening_hours.{day}: {part!r} is not like 09:00-17:00") from exc
                if end <= start:
                    raise HoursError(f"opening_hours.{day}: {part!r} ends before it starts")
                intervals.append((start, end))
            week.append(tuple(intervals))
        return cls(zone, tuple(week))

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.timezone)
        return any(start <= local.time() < end for start, end in self.week[local.weekday()])

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The next moment the desk opens (None when no hours are set at all)."""
        local = moment.astimezone(self.timezone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self.week[day.weekday()]:
                candidate = dt.datetime.combine(day, start, tzinfo=self.timezone)
                if candidate > local:
                    return candidate
        return None

    def describe_next_opening(self, moment: dt.datetime) -> str:
        """Dutch: 'morgen (dinsdag) om 9.00 uur', 'vandaag om 13.00 uur', 'maandag om 9.00 uur'."""
        opening = self.next_opening(moment)
        if opening is None:
            return "zodra er weer een medewerker is"
        local = moment.astimezone(self.timezone).date()
        when = f"om {opening.hour}.{opening.minute:02d} uur"
        if opening.date() == local:
            return f"vandaag {when}"
        if opening.date() == local + dt.timedelta(days=1):
            return f"morgen ({DUTCH_DAYS[opening.weekday()]}) {when}"
        return f"{DUTCH_DAYS[opening.weekday()]} {when}"
