"""The weekly trend and the benchmarks of an area (an LA or a school): for the HTML reports
(serving/html_report.py) and for a school's termly targeting pack (`school_trends`).

The trend is weekly_attendance's year-to-date rate of the latest academic year, beside the
same school week of last year where the store holds it. The benchmarks are the DfE's
published rates for England and the LA's region (seeds dfe_attendance_benchmarks and
dfe_la_regions), compared with the area's DfE-comparable figures: compulsory school age
only, as the DfE's statistics (docs/models.md, "Benchmarks"). The all-pupil figures are
shown beside them, named as such.
"""

import csv
import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from serving.reports.line_chart import LineChart, Series
from warehouse.project import SEEDS_DIR

# The schools reference's phase -> the DfE's education_phase; other phases (alternative
# provision) are compared with all state-funded schools.
DFE_PHASES = {"primary": "Primary", "secondary": "Secondary", "special": "Special"}
ALL_PHASES = "Total"


@dataclass(frozen=True)
class WeekRow:
    """One school week of weekly_attendance (rates are fractions)."""

    school_week: int
    week_start: date
    possible_sessions: int
    attendance_rate: float | None
    ytd_attendance_rate: float | None
    last_year_week_start: date | None
    last_year_attendance_rate: float | None
    last_year_ytd_attendance_rate: float | None


@dataclass(frozen=True)
class Rates:
    """One population's headline rates (fractions; None where not published or no data)."""

    population: str
    attendance_rate: float | None
    overall_absence_rate: float | None
    persistent_absence_rate: float | None
    severe_absence_rate: float | None


@dataclass(frozen=True)
class SchoolTrends:
    """What a school's targeting pack shows of its trend and benchmarks."""

    weeks: list[WeekRow]
    benchmarks: list[Rates]


def latest_year(con: duckdb.DuckDBPyConnection) -> str | None:
    (year,) = con.execute("select max(academic_year) from weekly_attendance").fetchone()
    return year


def weekly_rows(
    con: duckdb.DuckDBPyConnection, level: str, area: str, academic_year: str | None = None
) -> list[WeekRow]:
    """The area's school weeks of `academic_year` (the latest held if None), in order."""
    year = academic_year or latest_year(con)
    found = con.execute(
        "select school_week, week_start, possible_sessions, attendance_rate,"
        " ytd_attendance_rate, last_year_week_start, last_year_attendance_rate,"
        " last_year_ytd_attendance_rate from weekly_attendance"
        " where level = ? and area = ? and academic_year = ? order by school_week",
        [level, area, year],
    ).fetchall()
    return [WeekRow(*row) for row in found]


def trend_chart(weeks: list[WeekRow], key: str = "trend") -> LineChart:
    held = any(w.last_year_ytd_attendance_rate is not None for w in weeks)
    series = [Series("This year, to date", tuple(w.ytd_attendance_rate for w in weeks))]
    if held:
        series.append(
            Series(
                "Last year, to the same school week",
                tuple(w.last_year_ytd_attendance_rate for w in weeks),
                dashed=True,
            )
        )
    return LineChart(
        key,
        "Attendance through the year",
        "Year-to-date attendance rate (present and approved educational activity as a share "
        "of possible sessions) at the end of each school week"
        + (
            ", beside last year's at the same school week."
            if held
            else ". Last year's figures are not held."
        )
        + " The axis covers the range of the figures, not 0 to 100%.",
        tuple(f"Week {w.school_week}, w/c {w.week_start:%d %b %Y}" for w in weeks),
        tuple(series),
        ("School week", *(s.name for s in series)),
    )


def area_rates(
    con: duckdb.DuckDBPyConnection, urns: tuple[str, ...], compulsory_only: bool
) -> Rates:
    """The area's rates over the latest academic year, all enrolments or (the DfE-comparable
    figure) those of compulsory school age only."""
    row = con.execute(
        "select sum(present_sessions + aea_sessions), sum(possible_sessions),"
        " count(*) filter (where is_persistent_absence), count(*) filter (where"
        " is_severe_absence), count(*) from pupil_attendance where list_contains(?, urn)"
        " and academic_year = (select max(academic_year) from pupil_attendance)"
        + (" and compulsory_school_age" if compulsory_only else ""),
        [list(urns)],
    ).fetchone()
    attended, possible, persistent, severe, enrolments = row
    return Rates(
        "Compulsory school age (DfE-comparable)" if compulsory_only else "All pupils",
        attended / possible if possible else None,
        1 - attended / possible if possible else None,
        persistent / enrolments if enrolments else None,
        severe / enrolments if enrolments else None,
    )


def _seed_rows(name: str) -> list[dict[str, str]]:
    path: Path = SEEDS_DIR / name
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _percent(text: str) -> float | None:
    return float(text) / 100 if text else None


def dfe_rates(la_code: str | None, phase: str = ALL_PHASES) -> list[Rates]:
    """England's and (when the LA code is known) its region's published rates, for `phase`."""
    regions = {r["la_code"]: r for r in _seed_rows("dfe_la_regions.csv")}
    region = regions.get(la_code or "")
    wanted = {"E92000001": "England"}
    if region:
        wanted[region["region_code"]] = region["region_name"]
    found = []
    for row in _seed_rows("dfe_attendance_benchmarks.csv"):
        if row["area_code"] in wanted and row["education_phase"] == phase:
            label = "state-funded schools" if phase == ALL_PHASES else f"{phase.lower()} schools"
            found.append(
                Rates(
                    f"{wanted[row['area_code']]}, {label} (DfE, {row['time_period']} to date)",
                    _percent(row["attendance_percent"]),
                    _percent(row["overall_absence_percent"]),
                    _percent(row["persistent_absence_percent"]),
                    _percent(row["severe_absence_percent"]),
                )
            )
    return sorted(found, key=lambda r: not r.population.startswith("England"))


def benchmark_comparison(
    con: duckdb.DuckDBPyConnection, urns: tuple[str, ...], la_code: str | None, phase: str
) -> list[Rates]:
    """The area's all-pupil and DfE-comparable rates, then England's and the region's."""
    return [
        area_rates(con, urns, compulsory_only=False),
        area_rates(con, urns, compulsory_only=True),
        *dfe_rates(la_code, phase),
    ]


def school_reference(con: duckdb.DuckDBPyConnection, urn: str) -> tuple[str | None, str]:
    """The school's LA code and the DfE phase to compare it with."""
    row = con.execute("select la_code, phase from schools where urn = ?", [urn]).fetchone()
    la_code, phase = row if row else (None, None)
    return la_code, DFE_PHASES.get(phase or "", ALL_PHASES)


def school_trends(con: duckdb.DuckDBPyConnection, urn: str) -> SchoolTrends:
    """A school's weekly rows (latest academic year) and its benchmark comparison."""
    la_code, phase = school_reference(con, urn)
    return SchoolTrends(
        weekly_rows(con, "school", urn), benchmark_comparison(con, (urn,), la_code, phase)
    )


def comparison_table(rates: list[Rates], key: str = "benchmarks") -> str:
    """The populations as columns, the measures as rows, rates as percentages (1 decimal)."""
    measures = (
        ("Attendance rate", "attendance_rate"),
        ("Overall absence rate", "overall_absence_rate"),
        ("Persistent absence (10% or more missed)", "persistent_absence_rate"),
        ("Severe absence (50% or more missed)", "severe_absence_rate"),
    )
    head = '<th scope="col">Measure</th>' + "".join(
        f'<th scope="col">{html.escape(r.population)}</th>' for r in rates
    )
    body = "".join(
        f'<tr><th scope="row">{name}</th>'
        + "".join(
            "<td>not available</td>"
            if getattr(r, column) is None
            else f"<td>{getattr(r, column):.1%}</td>"
            for r in rates
        )
        + "</tr>"
        for name, column in measures
    )
    return (
        f'<table id="{key}-table"><caption>Against England and the region</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
