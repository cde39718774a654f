"""Headline figures, each saying which population it covers (issue 22, point 1).

The project's own headline counts every pupil on roll, including those below compulsory
school age (nursery, reception) and above it (sixth form). DfE's national statistics count
pupils of compulsory school age only (5 to 15 on the 31 August before the academic year), so
a DfE-comparable headline is shown beside it, from the same restricted pupil_attendance.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

ALL_PUPILS = "All pupils on roll, including those below or above compulsory school age"
COMPULSORY = "Compulsory school age only (5 to 15), as DfE's national statistics"
# The same two, short, for one line of a console or a table heading.
ALL_PUPILS_SHORT = "all pupils on roll"
COMPULSORY_SHORT = "compulsory school age only, 5 to 15, as in DfE's national statistics"


@dataclass(frozen=True)
class Headline:
    """One population's figures, year to date; rates None when nothing was possible."""

    population: str
    enrolments: int
    possible_sessions: int
    attended_sessions: int
    persistent_absence: int
    severe_absence: int

    @property
    def attendance_rate(self) -> float | None:
        return self.attended_sessions / self.possible_sessions if self.possible_sessions else None

    @property
    def absence_rate(self) -> float | None:
        rate = self.attendance_rate
        return None if rate is None else 1 - rate

    @property
    def persistent_absence_rate(self) -> float | None:
        return self.persistent_absence / self.enrolments if self.enrolments else None

    @property
    def severe_absence_rate(self) -> float | None:
        return self.severe_absence / self.enrolments if self.enrolments else None


def headline(
    con: duckdb.DuckDBPyConnection,
    urns: Sequence[str] | None = None,
    compulsory_only: bool = False,
) -> Headline:
    """The headline of the schools `urns` (every school when None), from pupil_attendance:
    all pupils on roll, or (`compulsory_only`) those of compulsory school age, in the latest
    academic year held (a store holds two from September: the years are not added)."""
    row = con.execute(
        "select count(*), coalesce(sum(possible_sessions), 0),"
        " coalesce(sum(present_sessions + aea_sessions), 0),"
        " count(*) filter (where is_persistent_absence), count(*) filter (where is_severe_absence)"
        " from pupil_attendance"
        " where (cast(? as varchar[]) is null or list_contains(?, urn))"
        " and (not ? or compulsory_school_age)"
        " and academic_year = (select max(academic_year) from pupil_attendance)",
        [None if urns is None else list(urns)] * 2 + [compulsory_only],
    ).fetchone()
    population = COMPULSORY if compulsory_only else ALL_PUPILS
    return Headline(population, *(int(v) for v in row))


def both(
    con: duckdb.DuckDBPyConnection, urns: Sequence[str] | None = None
) -> tuple[Headline, Headline]:
    """(all pupils on roll, DfE-comparable) for the schools `urns` (every school when None)."""
    return headline(con, urns), headline(con, urns, compulsory_only=True)


def percent(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or a dash when there is none."""
    return "–" if rate is None else f"{rate:.1%}"


def one_line(top: Headline) -> str:
    """The DfE-comparable (or any) headline on one line, for a console or a Markdown report."""
    return (
        f"{top.enrolments:,} enrolments; attendance {percent(top.attendance_rate)}, overall "
        f"absence {percent(top.absence_rate)}, persistent absence "
        f"{percent(top.persistent_absence_rate)}, severe absence "
        f"{percent(top.severe_absence_rate)}"
    )
