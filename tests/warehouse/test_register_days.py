"""Register days and the times that stand for them, in Europe/London, across both clock
changes: a run's logical date falls on its register day, and a day ends at London midnight."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from warehouse.register_days import end_of_day, logical_date_for, register_day_of

LONDON = ZoneInfo("Europe/London")
# Every day of a year that has both clock changes (30 March and 26 October 2025).
YEAR = [date(2025, 1, 1) + timedelta(days=n) for n in range(365)]


def test_a_logical_date_is_six_pm_in_london_on_its_register_day() -> None:
    for day in YEAR:
        moment = logical_date_for(day)
        local = moment.astimezone(LONDON)
        assert (local.date(), local.hour, local.minute) == (day, 18, 0), day
        # As Airflow hands it back, in UTC, it still names the same register day.
        assert register_day_of(moment.astimezone(UTC)) == day, day


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # British Summer Time: 23:30 UTC is 00:30 the next day in London.
        (datetime(2025, 6, 10, 23, 30, tzinfo=UTC), date(2025, 6, 11)),
        (datetime(2025, 6, 10, 22, 59, tzinfo=UTC), date(2025, 6, 10)),
        # Greenwich Mean Time: UTC and London agree.
        (datetime(2025, 12, 10, 23, 30, tzinfo=UTC), date(2025, 12, 10)),
        (datetime(2025, 12, 11, 0, 0, tzinfo=UTC), date(2025, 12, 11)),
    ],
)
def test_an_aware_time_falls_on_its_london_day(moment: datetime, day: date) -> None:
    assert register_day_of(moment) == day


def test_no_logical_date_has_no_register_day() -> None:
    assert register_day_of(None) is None


def test_a_day_ends_just_before_london_midnight() -> None:
    for day in YEAR:
        end = end_of_day(day)
        next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), LONDON)
        assert logical_date_for(day) < end < next_midnight, day
        assert next_midnight - end == timedelta(microseconds=1), day
        assert register_day_of(end) == day
        assert register_day_of(end + timedelta(microseconds=1)) == day + timedelta(days=1)


def test_a_day_of_a_clock_change_is_23_or_25_hours_long() -> None:
    def length(day: date) -> timedelta:
        # In UTC: Python subtracts two times of one zone by their wall clocks.
        return end_of_day(day).astimezone(UTC) - end_of_day(day - timedelta(days=1)).astimezone(UTC)

    assert length(date(2025, 3, 30)) == timedelta(hours=23)
    assert length(date(2025, 10, 26)) == timedelta(hours=25)
    assert length(date(2025, 6, 10)) == timedelta(hours=24)
