from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml

from baken_core.paths import PROJECT_ROOT
from handoff.store.office_hours import HoursError, OfficeHours

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


def test_public_holidays_close_the_office_like_a_sunday() -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text())["opening_hours"]
    hours = OfficeHours.from_settings(settings)
    assert not hours.is_open(dt.datetime(2026, 12, 25, 11, 0, tzinfo=AMS))  # Eerste kerstdag, a Friday
    assert not hours.is_open(dt.datetime(2027, 4, 27, 11, 0, tzinfo=AMS))  # Koningsdag, a Tuesday
    assert not hours.is_open(dt.datetime(2027, 5, 6, 11, 0, tzinfo=AMS))  # Hemelvaartsdag
    assert hours.is_open(dt.datetime(2026, 4, 3, 11, 0, tzinfo=AMS))  # Goede vrijdag: open in gemeente.yml
    christmas_eve = dt.datetime(2026, 12, 24, 18, 0, tzinfo=AMS)  # Thursday evening; Friday is Christmas
    assert hours.describe_next_opening(christmas_eve) == "maandag om 9.00 uur"
    assert hours.closed_because(dt.date(2026, 12, 26)) == "Tweede kerstdag"


def test_local_closing_days_and_a_long_closure_are_described_with_a_date() -> None:
    hours = OfficeHours.from_settings(
        {
            "monday": "09:00-17:00",
            "tuesday": "09:00-17:00",
            "closed_days": "2026-12-28, 2026-12-29, 2027-01-04, 2027-01-05",
        }
    )
    assert not hours.is_open(dt.datetime(2026, 12, 28, 11, 0, tzinfo=AMS))
    # closed the last Monday and Tuesday of the year, then Nieuwjaarsdag, then two more days
    assert hours.describe_next_opening(dt.datetime(2026, 12, 24, 18, 0, tzinfo=AMS)) == "maandag 11 januari om 9.00 uur"
    with pytest.raises(HoursError, match="closed_days"):
        OfficeHours.from_settings({"monday": "09:00-17:00", "closed_days": "24 december"})
