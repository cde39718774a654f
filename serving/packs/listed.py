"""The pupils of one school's pack, read from the restricted mart `pupils_for_support`.

Each listed enrolment is shown once, in the first of the pack's lists it belongs to (severe
absence, then persistent absence, then listed for another reason), in the order of the
LA's action list (`priority`, 1 = act first); the reasons are said in the words of the
action list's export (serving/action_list/reasons.py), and what is new since the previous
publication is marked.
"""

from dataclasses import dataclass
from datetime import date

import duckdb

from serving.action_list.reasons import percent, reasons


@dataclass(frozen=True)
class ListedPupil:
    priority: int
    upn: str
    ncy: str | None
    sen_provision: str | None
    possible_sessions: int
    absence_rate: float
    severe: bool
    persistent: bool
    newly_listed: bool
    part_time_timetable: bool
    reasons: tuple[str, ...]
    unresolved_n_sessions: int
    oldest_unresolved_n_date: date | None

    @property
    def absence_percent(self) -> str:
        return percent(self.absence_rate)


@dataclass(frozen=True)
class Listed:
    """The school's listed pupils, in priority order."""

    pupils: tuple[ListedPupil, ...]

    @property
    def severe(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if p.severe)

    @property
    def persistent(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if p.persistent and not p.severe)

    @property
    def other(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if not (p.persistent or p.severe))

    @property
    def newly_listed(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if p.newly_listed)

    @property
    def part_time(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if p.part_time_timetable)

    @property
    def unresolved_n(self) -> tuple[ListedPupil, ...]:
        return tuple(
            sorted(
                (p for p in self.pupils if p.unresolved_n_sessions),
                key=lambda p: (p.oldest_unresolved_n_date, p.upn),
            )
        )


def listed(con: duckdb.DuckDBPyConnection, urn: str) -> Listed:
    """The enrolments of `urn` on the action list of the publication's latest year."""
    cursor = con.execute(
        "select * from pupils_for_support where urn = ?"
        " and academic_year = (select max(academic_year) from pupils_for_support)"
        " order by priority, upn",
        [urn],
    )
    columns = [d[0] for d in cursor.description]
    pupils = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        pupils.append(
            ListedPupil(
                priority=int(row["priority"]),
                upn=row["upn"],
                ncy=row["ncy"],
                sen_provision=row["sen_provision"],
                possible_sessions=int(row["possible_sessions"]),
                absence_rate=float(row["overall_absence_rate"]),
                severe=bool(row["severe_absence"]),
                persistent=bool(row["persistent_absence"]),
                newly_listed=bool(row["newly_listed"]),
                part_time_timetable=bool(row["part_time_timetable"]),
                reasons=tuple(reasons(row)),
                unresolved_n_sessions=int(row["unresolved_n_sessions"]),
                oldest_unresolved_n_date=row["oldest_unresolved_n_date"],
            )
        )
    return Listed(tuple(pupils))
