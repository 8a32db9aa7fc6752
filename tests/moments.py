"""Moments the desk's tests put the clock at: inside and outside office hours (data/gemeente.yml)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_MORNING = dt.datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM)
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 23, 0, tzinfo=AMSTERDAM)
