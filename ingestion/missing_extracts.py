"""Which schools' extracts for the register day did not arrive.

A school is expected on a register day when the event store has known it since that day or
earlier (its first schools or pupils row was extracted by the end of the day) and the day is
one it is expected open (ingestion/school_calendar: a weekday in term, or one its registers
do not show closed). It has
arrived when a file of an extract taken on that day (the extract folder's timestamp name,
else the file's modification time, as the ingester reads it; days in Europe/London) has
been ingested from the landing folder. A missing school does not stop the run: the rest of
the authority is processed and published, and the school is reported (alerts, the run's
XCom, the publication's asset event and the run report).

A known school whose latest extract is older than the stale threshold (school days it was
expected open since, ATTENDANCE_STALE_AFTER_SCHOOL_DAYS) is stale: it is alerted as such,
with that age, instead of as missing, once per run, on any day.

A file's school is the nearest folder of its path named by a 6-digit URN
(`<urn>/<stamp>/marks.csv`, also below an HTTP source's folder), else the school its rows
were stored under.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.landing import extract_time_of, find_extract_files, urn_of_path
from ingestion.school_calendar.expected_days import (
    school_days_between,
    stale_after_school_days,
    write_school_calendar,
)
from ingestion.school_calendar.term_dates import read_term_dates, term_dates_path
from warehouse.connect import connect
from warehouse.locations import Locations
from warehouse.register_days import end_of_day, register_day_of


@dataclass(frozen=True)
class ExtractCheck:
    register_day: date
    expected: list[str]
    arrived: list[str]
    missing: list[str]
    # For each missing or stale school, the day of its latest extract before the register day.
    last_extract: dict[str, str | None] = field(default_factory=dict)
    # Known schools not expected open on the register day (weekend, holiday, closure).
    not_expected: list[str] = field(default_factory=list)
    # Each stale school's age: the school days it was expected open since its latest extract.
    stale: dict[str, int] = field(default_factory=dict)
    stale_after: int = 3

    def reason(self, urn: str) -> str:
        last = self.last_extract.get(urn)
        if urn in self.stale:
            return (
                f"the feed of school {urn} is stale: its latest extract ({last or 'none'}) is "
                f"{self.stale[urn]} school days old on {self.register_day} (more than "
                f"{self.stale_after}); the other schools were processed"
            )
        return (
            f"no extract taken on {self.register_day} arrived for school {urn} "
            f"(its latest extract: {last or 'none'}); the other schools were processed"
        )

    @property
    def alerted(self) -> list[str]:
        """The schools to alert, once each: the missing ones and the stale ones."""
        return sorted(set(self.missing) | set(self.stale))

    def as_record(self) -> dict[str, Any]:
        return {
            "register_day": self.register_day.isoformat(),
            "schools_expected": len(self.expected),
            "schools_arrived": len(self.arrived),
            "missing_schools": self.missing,
            "last_extract": {urn: self.last_extract.get(urn) for urn in self.alerted},
            "schools_not_expected_open": self.not_expected,
            "stale_schools": self.stale,
        }


def check_extracts(locations: Locations, register_day: date) -> ExtractCheck:
    """Compare the schools the event store knows with the extracts ingested for the day, on
    the days each is expected open; write the school calendar (`ops.school_calendar`)."""
    term_rows = read_term_dates(term_dates_path())
    stale_after = stale_after_school_days()
    with connect(locations.warehouse_db) as con:
        known = con.execute(
            """
            select urn, cast(timezone('Europe/London', min(extracted_at)) as date) from (
                select urn, extracted_at from events.school_events
                union all
                select urn, extracted_at from events.pupil_events
            )
            group by urn
            having min(extracted_at) <= ?
            """,
            [end_of_day(register_day)],
        ).fetchall()
        paths = [
            row[0] for row in con.execute("select distinct path from ops.ingest_audit").fetchall()
        ]
        # Only files whose path names no school are looked up, in every stream: after a
        # school's first day its schools and pupils rows are mostly duplicates (not stored),
        # so often only its marks were stored under it.
        unnamed = [path for path in paths if urn_of_path(path) is None]
        stored_under = (
            dict(
                con.execute(
                    """
                    select source_file, any_value(urn) from (
                        select source_file, urn from events.school_events
                        union all
                        select source_file, urn from events.pupil_events
                        union all
                        select source_file, urn from events.mark_events
                    )
                    where list_contains(?, source_file)
                    group by source_file
                    """,
                    [unnamed],
                ).fetchall()
            )
            if unnamed
            else {}
        )
        days_by_school: dict[str, set[date]] = defaultdict(set)
        for path in paths:
            urn = urn_of_path(path) or stored_under.get(path)
            day = _extract_day(locations.landing / path)
            if urn and day:
                days_by_school[urn].add(day)
        first_seen = dict(known)
        latest = {
            urn: max((d for d in days_by_school[urn] if d <= register_day), default=None)
            for urn in first_seen
        }
        # Ages are counted from each school's latest extract: the calendar starts at the
        # oldest of them.
        since = min([latest[urn] or first_seen[urn] for urn in first_seen] + [register_day])
        calendar = write_school_calendar(con, first_seen, register_day, term_rows, since)
    known_urns = sorted(first_seen)
    arrived = sorted(urn for urn, days in days_by_school.items() if register_day in days)
    is_open = {urn: register_day in calendar.get(urn, ()) for urn in known_urns}
    expected = [urn for urn in known_urns if is_open[urn]]
    missing = sorted(set(expected) - set(arrived))
    ages = {
        urn: school_days_between(calendar.get(urn, []), latest[urn], register_day)
        for urn in known_urns
    }
    stale = {urn: age for urn, age in ages.items() if age > stale_after}
    last_extract = {
        urn: max((d for d in days_by_school[urn] if d < register_day), default=None)
        for urn in sorted(set(missing) | set(stale))
    }
    return ExtractCheck(
        register_day,
        expected,
        arrived,
        missing,
        {urn: day.isoformat() if day else None for urn, day in last_extract.items()},
        not_expected=[urn for urn in known_urns if not is_open[urn]],
        stale=stale,
        stale_after=stale_after,
    )


def latest_extract_day(landing: Path) -> date | None:
    """The latest register day the extracts in `landing` cover: the day of the latest
    pupils or marks file, each read as the check above reads it; None when there is none.
    A schools file is reference, not a day's register: outside a stamped folder its day
    would be the day it was copied."""
    days = (
        _extract_day(extract.path)
        for extract in find_extract_files(landing)
        if extract.kind.name != "schools"
    )
    return max((day for day in days if day is not None), default=None)


def _extract_day(path: Path) -> date | None:
    try:
        return register_day_of(extract_time_of(path))
    except FileNotFoundError:
        # Neither a timestamped folder nor the file itself (removed from landing since).
        return None
