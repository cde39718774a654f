"""Which schools' extracts for the register day did not arrive.

A school is expected on a register day when the event store has known it since that day or
earlier (its first schools or pupils row was extracted by the end of the day). It has
arrived when a file of an extract taken on that day (the extract folder's timestamp name,
else the file's modification time, as the ingester reads it; days in Europe/London) has
been ingested from the landing folder. A missing school does not stop the run: the rest of
the authority is processed and published, and the school is reported (alerts, the run's
XCom, the publication's asset event and the run report).

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
from warehouse.connect import connect
from warehouse.locations import Locations
from warehouse.register_days import end_of_day, register_day_of


@dataclass(frozen=True)
class ExtractCheck:
    register_day: date
    expected: list[str]
    arrived: list[str]
    missing: list[str]
    # For each missing school, the day of its latest extract before the register day.
    last_extract: dict[str, str | None] = field(default_factory=dict)

    def reason(self, urn: str) -> str:
        last = self.last_extract.get(urn)
        return (
            f"no extract taken on {self.register_day} arrived for school {urn} "
            f"(its latest extract: {last or 'none'}); the other schools were processed"
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "register_day": self.register_day.isoformat(),
            "schools_expected": len(self.expected),
            "schools_arrived": len(self.arrived),
            "missing_schools": self.missing,
            "last_extract": {urn: self.last_extract.get(urn) for urn in self.missing},
        }


def check_extracts(locations: Locations, register_day: date) -> ExtractCheck:
    """Compare the schools the event store knows with the extracts ingested for the day."""
    with connect(locations.warehouse_db, read_only=True) as con:
        known = con.execute(
            """
            select urn from (
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
    expected = sorted(urn for (urn,) in known)
    days_by_school: dict[str, set[date]] = defaultdict(set)
    for path in paths:
        urn = urn_of_path(path) or stored_under.get(path)
        day = _extract_day(locations.landing / path)
        if urn and day:
            days_by_school[urn].add(day)
    arrived = sorted(urn for urn, days in days_by_school.items() if register_day in days)
    missing = sorted(set(expected) - set(arrived))
    last_extract = {
        urn: max((d for d in days_by_school[urn] if d < register_day), default=None)
        for urn in missing
    }
    return ExtractCheck(
        register_day,
        expected,
        arrived,
        missing,
        {urn: day.isoformat() if day else None for urn, day in last_extract.items()},
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
