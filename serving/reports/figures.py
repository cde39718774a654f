"""The figures of one area's report (an LA or a school), read from the published marts.

True counts throughout: the reports go to the LA's attendance hub and to the school itself,
who are entitled to their own figures (MARTS.md: small-number suppression is for what is
shared widely). The counts come from the restricted marts, which are never suppressed;
`school_daily_attendance` withholds a day of 1 to 4 pupils, so the weekly figures are added up
from `school_daily_reasons` instead.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from serving.reports.charts import Bar, Chart
from warehouse.project import SEEDS_DIR

# The reports cover the latest academic year: a store holds last year's too once a year
# turns (and the previous year's history when one was loaded).
THIS_YEAR = " and academic_year = (select max(academic_year) from pupil_attendance)"
# Absence episodes by length in sessions: (label, shortest, longest).
EPISODE_LENGTHS = (
    ("1 session", 1, 1),
    ("2 to 3 sessions", 2, 3),
    ("4 to 9 sessions", 4, 9),
    ("10 to 19 sessions", 10, 19),
    ("20 sessions or more", 20, 10**9),
)
# The support list's flags (pupils_for_support), as a hub would name them.
SUPPORT_FLAGS = {
    "persistent_absence": "Persistent absence: 10% or more of sessions missed",
    "severe_absence": "Severe absence: 50% or more of sessions missed",
    "illness_15_days": "Illness: 15 school days or more (s19 duty)",
    "penalty_threshold": "Penalty threshold: 10 unauthorised sessions in 10 school weeks",
    "unresolved_n": "Unresolved N: reason not established after 5 school days",
    "support_first": "Support first: penalty threshold with SEN support or an EHC plan",
}


@dataclass(frozen=True)
class Area:
    """What one report covers: an LA (its schools) or one school."""

    level: str  # "la" or "school"
    code: str  # LA code or URN
    title: str
    urns: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.level}_{self.code}.html"


def areas(con: duckdb.DuckDBPyConnection) -> list[Area]:
    """Every LA of the schools reference, then every school with school days, by URN."""
    found = []
    for (la_code,) in con.execute(
        "select distinct la_code from schools where la_code is not null order by 1"
    ).fetchall():
        urns = con.execute(
            "select urn from schools where la_code = ? order by urn", [la_code]
        ).fetchall()
        found.append(Area("la", la_code, f"Local authority {la_code}", tuple(u for (u,) in urns)))
    for urn, name in con.execute(
        "select days.urn, schools.school_name from (select distinct urn from"
        " school_daily_attendance) as days left join schools on schools.urn = days.urn"
        " order by days.urn"
    ).fetchall():
        # A school whose schools row has not arrived yet is named by its URN only.
        title = f"{name} (URN {urn})" if name else f"School with URN {urn}"
        found.append(Area("school", urn, title, (urn,)))
    return found


def weekly(con: duckdb.DuckDBPyConnection, area: Area) -> Chart:
    rows = con.execute(
        "select cast(date_trunc('week', session_date) as date) as week, sum(sessions),"
        " sum(sessions) filter (where category in ('present', 'aea')),"
        " sum(sessions) filter (where category in ('authorised', 'unauthorised'))"
        " from school_daily_reasons where list_contains(?, urn)"
        + THIS_YEAR
        + " group by week order by week",
        [list(area.urns)],
    ).fetchall()
    bars = []
    for week, possible, attended, absent in rows:
        possible, attended, absent = int(possible), int(attended or 0), int(absent or 0)
        absence = absent / possible
        bars.append(
            Bar(
                f"w/c {week:%d %b %Y}",
                absence,
                f"{absence:.1%} absent ({1 - absence:.1%} attendance)",
                (
                    f"{possible:,}",
                    f"{attended:,}",
                    f"{absent:,}",
                    f"{absence:.1%}",
                    f"{1 - absence:.1%}",
                ),
            )
        )
    return Chart(
        "weekly",
        "Absence by week",
        "Sessions missed (authorised and unauthorised absence) as a share of possible "
        "sessions, by Monday-to-Sunday week; the attendance rate (present and approved "
        "educational activity) is the rest, shown beside each bar. The axis starts at zero "
        "and ends just above the worst week.",
        (
            "Week beginning",
            "Possible sessions",
            "Attended sessions",
            "Absence sessions",
            "Absence rate",
            "Attendance rate",
        ),
        tuple(bars),
        is_rate=True,
    )


def reasons(con: duckdb.DuckDBPyConnection, area: Area) -> Chart:
    rows = con.execute(
        "select register_code, any_value(category), sum(sessions) from school_daily_reasons"
        " where list_contains(?, urn) and category in ('authorised', 'unauthorised')"
        + THIS_YEAR
        + " group by 1 order by 3 desc, 1",
        [list(area.urns)],
    ).fetchall()
    names = _seed("register_codes.csv", code_set="2024")
    bars = tuple(
        Bar(_named(code, names), float(n), f"{int(n):,}", (category, f"{int(n):,}"))
        for code, category, n in rows
    )
    return Chart(
        "reasons",
        "Absence by reason",
        "Sessions of absence by register code.",
        ("Register code", "Category", "Sessions"),
        bars,
        is_rate=False,
    )


def persistent(
    con: duckdb.DuckDBPyConnection, area: Area, by_need: bool, all_pupils: float | None
) -> Chart:
    column = "sen_primary_need" if by_need else "sen_provision"
    only = "sen_provision in ('K', 'E')" if by_need else "true"
    rows = con.execute(
        f"select {column}, count(*) filter (where is_persistent_absence), count(*)"
        f" from pupil_attendance where list_contains(?, urn) and {only}"
        + THIS_YEAR
        + " group by 1 order by 1 nulls last",
        [list(area.urns)],
    ).fetchall()
    names = _seed("sen_need_codes.csv" if by_need else "sen_provision_codes.csv")
    bars = []
    for group, part, whole in rows:
        rate = part / whole
        bars.append(
            Bar(
                _named(group, names) if group else "Not stated",
                rate,
                f"{rate:.1%} ({part:,} of {whole:,})",
                (f"{whole:,}", f"{part:,}", f"{rate:.1%}"),
            )
        )
    heading = "primary need" if by_need else "SEN provision"
    return Chart(
        f"persistent-{'need' if by_need else 'provision'}",
        f"Persistent absence by {heading}",
        (
            "Pupils with SEN support (K) or an EHC plan (E), by their latest primary need: "
            if by_need
            else "Enrolments by their latest SEN provision: "
        )
        + "the share missing 10% or more of possible sessions; the dashed line is the rate "
        "of all pupils.",
        (heading.capitalize(), "Enrolments", "Persistently absent", "Rate"),
        tuple(bars),
        is_rate=True,
        reference=all_pupils,
        reference_label="all pupils",
    )


def episodes(con: duckdb.DuckDBPyConnection, area: Area) -> Chart:
    bars = []
    for label, shortest, longest in EPISODE_LENGTHS:
        (count,) = con.execute(
            "select count(*) from absence_episodes where list_contains(?, urn)"
            + THIS_YEAR
            + " and sessions between ? and ?",
            [list(area.urns), shortest, longest],
        ).fetchone()
        bars.append(Bar(label, float(count), f"{count:,}", (f"{count:,}",)))
    return Chart(
        "episodes",
        "Absence episodes by length",
        "Runs of consecutive absence sessions of one pupil.",
        ("Length", "Episodes"),
        tuple(bars),
        is_rate=False,
    )


def support(con: duckdb.DuckDBPyConnection, area: Area) -> Chart:
    counts = con.execute(
        "select "
        + ", ".join(f"count(*) filter (where {flag})" for flag in SUPPORT_FLAGS)
        + " from pupils_for_support where list_contains(?, urn)"
        + THIS_YEAR,
        [list(area.urns)],
    ).fetchone()
    bars = tuple(
        Bar(label, float(n), f"{n:,}", (f"{n:,}",))
        for label, n in zip(SUPPORT_FLAGS.values(), counts, strict=True)
    )
    return Chart(
        "support",
        "Support list",
        "Enrolments on the hub's action list, by flag (an enrolment may have several).",
        ("Flag", "Enrolments"),
        bars,
        is_rate=False,
    )


def _named(code: str, names: dict[str, str]) -> str:
    return f"{code} {names[code]}" if code in names else code


def _seed(name: str, code_set: str | None = None) -> dict[str, str]:
    path: Path = SEEDS_DIR / name
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["code"]: row["description"]
            for row in csv.DictReader(handle)
            if code_set is None or row["code_set"] == code_set
        }
