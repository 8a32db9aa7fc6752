from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml

from baken_core.paths import PROJECT_ROOT
from handoff.office_hours import HoursError, OfficeHours

AMS = ZoneInfo("Europe/Amsterdam")
HOURS = OfficeHours.from_settings(
    {"timezone": "Europe/Amsterdam", "monday": "09:00-12:00, 13:00-17:00", "friday": "09:00-17:00"}
)


def test_open_and_closed_moments() -> None:
    monday = dt.datetime(2026, 11, 30, 10, 0, tzinfo=AMS)
    assert HOURS.is_open(monday)
    assert not HOURS.is_open(monday.replace(hour=12, minute=30))  # lunch
    assert not HOURS.is_open(monday.replace(hour=17))
    assert HOURS.is_open(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc))  # 10:00 in Amsterdam


def test_next_opening_is_described_in_dutch() -> None:
    monday_lunch = dt.datetime(2026, 11, 30, 12, 30, tzinfo=AMS)
    assert HOURS.describe_next_opening(monday_lunch) == "vandaag om 13.00 uur"
    monday_evening = monday_lunch.replace(hour=20)
    assert HOURS.describe_next_opening(monday_evening) == "vrijdag om 9.00 uur"
    thursday_evening = dt.datetime(2026, 12, 3, 22, 0, tzinfo=AMS)
    assert HOURS.describe_next_opening(thursday_evening) == "morgen (vrijdag) om 9.00 uur"


def test_the_example_gemeente_hours_load() -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text())["opening_hours"]
    hours = OfficeHours.from_settings(settings)
    assert hours.is_open(dt.datetime(2026, 12, 1, 11, 0, tzinfo=AMS))  # a Tuesday
    assert not hours.is_open(dt.datetime(2026, 12, 5, 11, 0, tzinfo=AMS))  # a Saturday


@pytest.mark.parametrize("value", ["9-17", "17:00-09:00", "negen tot vijf"])
def test_malformed_hours_are_refused_clearly(value: str) -> None:
    with pytest.raises(HoursError, match="monday"):
        OfficeHours.from_settings({"monday": value})
