"""Office hours of the social workers, from `data/gemeente.yml` (opening_hours).

Outside office hours the desk says honestly when a worker will answer. Dutch public
holidays (Nieuwjaarsdag, Pasen, Koningsdag, Hemelvaart, Pinksteren, Kerst; from the
maintained `holidays` library, not a hand-kept list) close the office like a Sunday;
`closed_days` adds local closing days ("2026-12-24, 2026-12-31") and `open_on_holidays`
keeps it open on a holiday the municipality works (e.g. "Goede vrijdag").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from baken_core.text import dutch_date

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DUTCH_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


class HoursError(ValueError):
    """The opening hours are malformed; the message says which day."""


@dataclass(frozen=True)
class OfficeHours:
    timezone: ZoneInfo
    week: tuple[tuple[tuple[dt.time, dt.time], ...], ...]
    """Per weekday (Monday first): the open intervals."""
    closed_days: frozenset[dt.date] = frozenset()
    """Local closing days on top of the public holidays."""
    public_holidays: bool = True
    open_on_holidays: frozenset[str] = frozenset()
    """Names of public holidays (as `holidays` writes them in Dutch, lower case) the office is open."""

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
        return cls(
            zone,
            tuple(week),
            closed_days=_dates(settings.get("closed_days")),
            public_holidays=str(settings.get("public_holidays", True)).lower() not in ("false", "no", "nee", "0"),
            open_on_holidays=frozenset(_names(settings.get("open_on_holidays"))),
        )

    def closed_because(self, day: dt.date) -> str | None:
        """Why the office is closed all day on `day` (a holiday's Dutch name), or None."""
        if day in self.closed_days:
            return "sluitingsdag"
        if self.public_holidays:
            name = _holidays(day.year).get(day)
            if name and name.lower() not in self.open_on_holidays:
                return str(name)
        return None

    def intervals(self, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
        """The open intervals of one local date (none on a holiday or closing day)."""
        return () if self.closed_because(day) else self.week[day.weekday()]

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.timezone)
        return any(start <= local.time() < end for start, end in self.intervals(local.date()))

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The next moment the desk opens (None when no hours are set at all)."""
        local = moment.astimezone(self.timezone)
        for offset in range(31):  # Christmas and a closing week can close the office for long
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self.intervals(day):
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
        if opening.date() < local + dt.timedelta(days=7):
            return f"{DUTCH_DAYS[opening.weekday()]} {when}"
        return f"{DUTCH_DAYS[opening.weekday()]} {dutch_date(opening.date(), year=False)} {when}"


def _holidays(year: int) -> holidays.HolidayBase:
    return _NL_HOLIDAYS.setdefault(year, holidays.country_holidays("NL", years=year, language="nl"))


_NL_HOLIDAYS: dict[int, holidays.HolidayBase] = {}


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    return [str(part).strip() for part in parts if str(part).strip()]


def _dates(value: Any) -> frozenset[dt.date]:
    days = set()
    for part in _items(value):
        try:
            days.add(dt.date.fromisoformat(part))
        except ValueError as exc:
            raise HoursError(f"opening_hours.closed_days: {part!r} is not a date like 2026-12-24") from exc
    return frozenset(days)


def _names(value: Any) -> list[str]:
    return [part.lower() for part in _items(value)]


class HoursInForce:
    """The office hours the desk uses now. The routing and the widget read `current` at every
    message; the admin's settings (handoff/admin/gemeente_api.py) `replace` them after writing
    gemeente.yml, and the next message already uses the new hours."""

    def __init__(self, hours: OfficeHours) -> None:
        self._hours = hours

    @property
    def current(self) -> OfficeHours:
        return self._hours

    def replace(self, hours: OfficeHours) -> None:
        self._hours = hours
