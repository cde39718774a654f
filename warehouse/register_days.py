"""Register days and the times that stand for them, in England's time zone.

A DAG run's logical date is its register day at the DAG's scheduled time (18:00, after the
afternoon registers and the MIS's 16:00 export), in Europe/London; a register day ends at
midnight there. This is the one place that turns one into the other.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
# The daily DAG's schedule: 18:00 on each school day.
RUN_TIME = time(18, 0)


def logical_date_for(register_day: date) -> datetime:
    """The logical date of the daily run for `register_day`."""
    return datetime.combine(register_day, RUN_TIME, LONDON)


def register_day_of(moment: datetime | None) -> date | None:
    """The register day a logical date (or any aware time) falls on, in Europe/London."""
    return None if moment is None else moment.astimezone(LONDON).date()


def end_of_day(day: date) -> datetime:
    """The last moment of `day` in Europe/London: the cut-off of that day's build."""
    return datetime.combine(day, time.max, LONDON)
