"""The public tier: the aggregate marts as they may be shared widely, and the DfE-style
daily extract, each with secondary suppression (serving/suppression.py).

Read from the published DuckDB file only. The equations, that is the sums someone outside
could know, are:

- attendance_by_sen: the provisions of one (level, area, year) add up to the area's roll;
  the school rows of one (year, provision) add up to the LA row (a publication is one LA's);
- attendance_by_sen_need: the needs of one (level, area, year, provision) add up to that
  provision's attendance_by_sen row; the school rows of one need add up to the LA row;
- the DfE extract: a school's categories add up to its possible sessions, each category's
  reasons to the category, and the schools of one date add up to the LA's daily figures
  (the DfE publishes those). A count of 1 to 4 sessions on one day is 1 to 4 pupils, so it
  is withheld (primary) as well as whole days of 1 to 4 pupils;
- school_daily_attendance holds the extract's category figures, so it withholds exactly
  what the extract withholds.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from serving.suppression import blank, complementary_cells
from warehouse.files import write_text_atomically
from warehouse.project import SEEDS_DIR, suppress_counts_below

Row = dict[str, Any]
REASON_SEED = SEEDS_DIR / "dfe_reason_columns.csv"
# attendance_by_sen(_need): each measure's count and the columns withheld with it.
SEN_MEASURES = {
    "row": (
        "enrolments",
        ("enrolments", "possible_sessions", "absence_sessions", "overall_absence_rate"),
    ),
    "persistent": (
        "persistent_absence_enrolments",
        ("persistent_absence_enrolments", "persistent_absence_rate"),
    ),
    "severe": (
        "severe_absence_enrolments",
        ("severe_absence_enrolments", "severe_absence_rate"),
    ),
}
# DfE daily attendance column names (docs/bi.md cites the source) of the category totals.
DFE_TOTALS = {
    "present": "present_sessions",
    "aea": "approved_educational_activity",
    "authorised": "authorised_absence",
    "unauthorised": "unauthorised_absence",
}


# school_daily_attendance's counts and the extract's columns holding the same figures.
DAILY_TO_DFE = {
    "possible_sessions": "possible_sessions",
    "present_sessions": "present_sessions",
    "aea_sessions": "approved_educational_activity",
    "authorised_absence_sessions": "authorised_absence",
    "unauthorised_absence_sessions": "unauthorised_absence",
}


def read_rows(con: duckdb.DuckDBPyConnection, table: str, order_by: str) -> list[Row]:
    cursor = con.execute(f"select * from main.{table} order by {order_by}")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def suppress_sen(by_sen: list[Row], by_need: list[Row]) -> int:
    """Secondary suppression of attendance_by_sen and attendance_by_sen_need, in place;
    returns the cells withheld."""
    values: dict[tuple, int | None] = {}
    linked: dict[tuple, list[tuple]] = {}
    equations: list[list[tuple]] = []
    marts = {"sen": by_sen, "need": by_need}
    for mart, rows in marts.items():
        for index, row in enumerate(rows):
            for measure, (count, _) in SEN_MEASURES.items():
                values[(mart, index, measure)] = row[count]
            linked[(mart, index, "row")] = [(mart, index, "persistent"), (mart, index, "severe")]
    provision_cell: dict[tuple, int] = {}
    for index, row in enumerate(by_sen):
        provision_cell[(row["level"], row["area"], row["academic_year"], row["sen_provision"])] = (
            index
        )
    for measure in SEN_MEASURES:
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for index, row in enumerate(by_sen):
            cell = ("sen", index, measure)
            groups[("area", row["level"], row["area"], row["academic_year"])].append(cell)
            groups[("la-sum", row["academic_year"], row["sen_provision"])].append(cell)
        for index, row in enumerate(by_need):
            cell = ("need", index, measure)
            parent = provision_cell.get(
                (row["level"], row["area"], row["academic_year"], row["sen_provision"])
            )
            key = ("needs", row["level"], row["area"], row["academic_year"], row["sen_provision"])
            if not groups[key] and parent is not None:
                groups[key].append(("sen", parent, measure))
            groups[key].append(cell)
            need_key = ("la-need", row["academic_year"], row["sen_provision"])
            groups[(*need_key, row["sen_primary_need"])].append(cell)
        equations += groups.values()
    added = complementary_cells(values, equations, linked)
    for mart, index, measure in added:
        blank(marts[mart][index], SEN_MEASURES[measure][1])
    return len(added)


def suppress_school_daily(rows: list[Row], extract: list[Row]) -> int:
    """Give school_daily_attendance, in place, the suppression of the DfE-style extract
    (`dfe_daily_rows`), which holds the same figures: a count withheld there is withheld here
    too, so neither table reveals what the other withholds. pupils_expected and the rate go
    with possible_sessions; the rate also with present and AEA sessions. Returns the cells
    withheld beyond the dbt mart's own (whole days of 1 to 4 pupils)."""
    extracted = {(r["urn"], r["attendance_date"]): r for r in extract}
    added = 0
    for row in rows:
        if row["suppressed"]:
            continue
        source = extracted[(row["urn"], row["session_date"])]
        withheld = [c for c, dfe in DAILY_TO_DFE.items() if source[dfe] is None]
        if "possible_sessions" in withheld:
            withheld.append("pupils_expected")
        if {"possible_sessions", "present_sessions", "aea_sessions"} & set(withheld):
            withheld.append("attendance_rate")
        if withheld:
            blank(row, withheld)
            added += len(withheld)
    return added


def reason_columns(seed: Path = REASON_SEED) -> list[tuple[str, str]]:
    """(category, DfE column) of each reason, in the seed's order."""
    with seed.open(newline="", encoding="utf-8") as handle:
        return [(r["category"], r["dfe_column"]) for r in csv.DictReader(handle)]


def dfe_daily_rows(daily: list[Row], reasons: list[Row]) -> list[Row]:
    """The DfE-style daily extract: one row per school and date, category totals and
    sessions by reason, suppressed (primary: 1 to 4 sessions; then secondary)."""
    columns = reason_columns()
    by_day: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in reasons:
        by_day[(row["urn"], row["session_date"])][row["dfe_column"]] += row["sessions"]
    extract: list[Row] = []
    for day in daily:
        counts = by_day[(day["urn"], day["session_date"])]
        totals = {
            DFE_TOTALS[category]: sum(counts[c] for cat, c in columns if cat == category)
            for category in DFE_TOTALS
        }
        row: Row = {
            "attendance_date": day["session_date"],
            "urn": day["urn"],
            "academic_year": day["academic_year"],
            "possible_sessions": sum(totals.values()),
            **totals,
            "overall_attendance": totals["present_sessions"]
            + totals["approved_educational_activity"],
            "overall_absence": totals["authorised_absence"] + totals["unauthorised_absence"],
            **{column: counts[column] for _, column in columns},
            "suppressed": bool(day["suppressed"]),
        }
        if day["suppressed"]:
            blank(row, [c for c in row if c not in ("attendance_date", "urn", "academic_year")])
        extract.append(row)
    _suppress_extract(extract, columns)
    return extract


def _suppress_extract(extract: list[Row], columns: Sequence[tuple[str, str]]) -> None:
    counted = [
        "possible_sessions",
        *DFE_TOTALS.values(),
        "overall_attendance",
        "overall_absence",
        *(c for _, c in columns),
    ]
    below = suppress_counts_below()
    for row in extract:
        small = [c for c in counted if row[c] is not None and 1 <= row[c] < below]
        if small:
            blank(row, small)
    values = {(i, c): row[c] for i, row in enumerate(extract) for c in counted}
    equations: list[list[tuple]] = []
    by_date: dict[Any, list[int]] = defaultdict(list)
    for i, row in enumerate(extract):
        by_date[row["attendance_date"]].append(i)
        totals = [(i, c) for c in DFE_TOTALS.values()]
        equations.append([(i, "possible_sessions"), *totals])
        equations.append([(i, "overall_attendance"), *totals[:2]])
        equations.append([(i, "overall_absence"), *totals[2:]])
        for category, total in DFE_TOTALS.items():
            equations.append([(i, total), *((i, c) for cat, c in columns if cat == category)])
    for indexes in by_date.values():
        equations += [[(i, c) for i in indexes] for c in counted]
    for i, column in complementary_cells(values, equations):
        blank(extract[i], [column])


def write_dfe_extract(published_db: Path, path: Path) -> Path:
    """The DfE-style daily extract of the publication in `published_db`, as CSV at `path`."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        daily = read_rows(con, "school_daily_attendance", "urn, session_date")
        reasons = read_rows(con, "school_daily_reasons", "urn, session_date, register_code")
    return write_csv(dfe_daily_rows(daily, reasons), path)


def write_csv(rows: list[Row], path: Path) -> Path:
    """Write `rows` as CSV beside `path` and rename it into place; empty cells are withheld."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["urn"])
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomically(path, text.getvalue())
