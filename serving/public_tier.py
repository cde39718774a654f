"""The public tier: the aggregate marts as they may be shared widely, with secondary
suppression that a linear-programming audit has passed (serving/suppression.py,
serving/disclosure_audit.py); and the DfE-style daily extract, which is not public and
carries true counts (the restricted mart dfe_daily_attendance).

Read from the published DuckDB file only. The sums someone outside could know are:

- attendance_by_sen: the provisions of one (level, area, year) add up to the area's roll
  (public in the school census); the school rows of one (year, provision) add up to the LA
  row (a publication is one LA's);
- attendance_by_sen_need: the needs of one (level, area, year, provision) add up to that
  provision's attendance_by_sen row; the school rows of one need add up to the LA row;
- attendance_by_characteristic, LA rows only: the groups of one (year, characteristic) add
  up to the LA's `all` row; its sen_provision rows are attendance_by_sen's LA rows again, so
  the three marts are suppressed and audited together (a figure withheld in one is withheld
  in the other). The mart is published whole to the restricted tier, so its primary
  suppression (1 to 4) is done here. Its school rows are not public: audited with them, the
  rule below withheld every figure of all three marts at demo size (docs/bi.md);
- school_daily_attendance: a school day's categories add up to its possible sessions, and
  the schools of one date add up to the LA's daily figures (the DfE publishes those). A
  count of 1 to 4 sessions on one day is 1 to 4 pupils, so it is withheld (primary) as well
  as whole days of 1 to 4 pupils (dbt).

The LA is the unit most readers want, so complements are taken among school cells first:
an LA figure is withheld only when it is itself small, or no school cell can protect a
withheld one.
"""

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from serving.disclosure_audit import Disclosure, Sum
from serving.suppression import blank, protect
from warehouse.files import write_text_atomically
from warehouse.project import suppress_counts_below

Row = dict[str, Any]
# attendance_by_characteristic's characteristics (MARTS.md version 2), `all` first.
CHARACTERISTICS = (
    "all",
    "sen_provision",
    "fsm_eligible",
    "looked_after",
    "child_in_need",
    "child_protection_plan",
    "ncy",
    "compulsory_school_age",
)
# attendance_by_sen(_need) and attendance_by_characteristic: each measure's count and the
# columns withheld with it.
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
# school_daily_attendance's category counts and the feed's columns holding the same figures.
DAILY_TO_DFE = {
    "possible_sessions": "possible_sessions",
    "present_sessions": "present_sessions",
    "aea_sessions": "approved_educational_activity",
    "authorised_absence_sessions": "authorised_absence",
    "unauthorised_absence_sessions": "unauthorised_absence",
}
DAILY_PARTS = tuple(c for c in DAILY_TO_DFE if c != "possible_sessions")
PUBLIC_MARTS = {
    "attendance_by_sen": "level, area, academic_year, sen_provision",
    "attendance_by_sen_need": "level, area, academic_year, sen_provision, sen_primary_need",
    "attendance_by_characteristic": "level, area, academic_year, characteristic, group_value",
    "school_daily_attendance": "urn, session_date",
}
# Complements are taken from the lowest rank first: need rows before provision and
# characteristic rows, and school rows before LA rows.
RANKS = {
    ("need", "school"): 0,
    ("sen", "school"): 1,
    ("char", "school"): 1,
    ("need", "la"): 2,
    ("sen", "la"): 3,
    ("char", "la"): 3,
}


@dataclass(frozen=True)
class PublicTier:
    """The public tables, suppressed and audited, and the cells each withholds."""

    tables: dict[str, list[Row]]
    withheld: dict[str, int]


def read_rows(con: duckdb.DuckDBPyConnection, table: str, order_by: str) -> list[Row]:
    cursor = con.execute(f"select * from main.{table} order by {order_by}")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def public_tier(con: duckdb.DuckDBPyConnection) -> PublicTier:
    """The public tables of the publication open in `con`. Raises DisclosureRefused (and
    returns nothing to write) when the audit cannot be passed."""
    tables = {t: read_rows(con, t, order) for t, order in PUBLIC_MARTS.items()}
    # School rows by characteristic stay in the restricted tier (docs/bi.md): audited with
    # them, the LP rule withheld every figure of the SEN marts and this one at demo size.
    tables["attendance_by_characteristic"] = [
        r for r in tables["attendance_by_characteristic"] if r["level"] == "la"
    ]
    enrolments = read_rows(con, "pupil_attendance", "urn, upn, academic_year")
    feed = read_rows(con, "dfe_daily_attendance", "urn, attendance_date")
    withheld = {
        "attendance_by_sen+need+characteristic": suppress_sen(
            tables["attendance_by_sen"],
            tables["attendance_by_sen_need"],
            enrolments,
            tables["attendance_by_characteristic"],
        ),
        "school_daily_attendance": suppress_school_daily(tables["school_daily_attendance"], feed),
    }
    return PublicTier(tables, withheld)


def _true_sen_counts(enrolments: list[Row], mart: str) -> Counter:
    """Each (level, area, year, group..., measure)'s true count, the group being the
    provision (sen), provision and need (need), or characteristic and group value (char);
    the LA row is the sum of its schools (a publication is one LA's)."""
    counts: Counter = Counter()
    for e in enrolments:
        flags = {
            "row": 1,
            "persistent": int(e["is_persistent_absence"]),
            "severe": int(e["is_severe_absence"]),
        }
        for group in _groups_of(e, mart):
            for measure, flag in flags.items():
                counts[("school", e["urn"], e["academic_year"], *group, measure)] += flag
                counts[("la", e["academic_year"], *group, measure)] += flag
    return counts


def _groups_of(e: Row, mart: str) -> list[tuple]:
    if mart == "sen":
        return [(e["sen_provision"],)]
    if mart == "need":
        return [(e["sen_provision"], e["sen_primary_need"])]
    return [(c, group_value(e, c)) for c in CHARACTERISTICS]


def group_value(e: Row, characteristic: str) -> str:
    """An enrolment's group in attendance_by_characteristic, spelt as the mart spells it."""
    if characteristic == "all":
        return "all"
    value = e[characteristic]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "unknown" if value is None else str(value)


def _group_key(mart: str, row: Row) -> tuple:
    if mart == "sen":
        return (row["academic_year"], row["sen_provision"])
    if mart == "need":
        return (row["academic_year"], row["sen_provision"], row["sen_primary_need"])
    return (row["academic_year"], row["characteristic"], row["group_value"])


def suppress_sen(
    by_sen: list[Row],
    by_need: list[Row],
    enrolments: list[Row],
    by_characteristic: list[Row] | None = None,
) -> int:
    """Secondary suppression of attendance_by_sen and attendance_by_sen_need, and primary
    and secondary of attendance_by_characteristic, in place, audited together; returns the
    cells withheld beyond the SEN marts' own."""
    marts = {"sen": by_sen, "need": by_need, "char": by_characteristic or []}
    values: dict[tuple, int] = {}
    primary: set[tuple] = set()
    linked: dict[tuple, list[tuple]] = {}
    ordered: list[tuple[tuple, tuple]] = []
    below = suppress_counts_below()
    for mart, rows in marts.items():
        truth = _true_sen_counts(enrolments, mart)
        for index, row in enumerate(rows):
            group = _group_key(mart, row)
            area = ("school", row["area"]) if row["level"] == "school" else ("la",)
            for measure, (count, _) in SEN_MEASURES.items():
                cell = (mart, index, measure)
                values[cell] = truth[(*area, *group, measure)]
                if row[count] is None or (mart == "char" and 1 <= values[cell] < below):
                    primary.add(cell)
                elif row[count] != values[cell]:
                    raise RuntimeError(
                        f"{mart} row {row['level']} {row['area']}: {count} is not the count "
                        "of its enrolments in pupil_attendance; the audit cannot be trusted"
                    )
            linked[(mart, index, "row")] = [(mart, index, "persistent"), (mart, index, "severe")]
            ordered += [
                ((mart, index, "severe"), (mart, index, "persistent")),
                ((mart, index, "persistent"), (mart, index, "row")),
            ]
    sums = known_sums(
        _sen_sums(by_sen, by_need) + _characteristic_sums(by_sen, marts["char"]), values, below
    )
    table = Disclosure(values, frozenset(primary), sums, ordered)
    levels = {(m, i): r["level"] for m, rows in marts.items() for i, r in enumerate(rows)}
    withheld = protect(
        table,
        below,
        linked,
        rank=lambda c: RANKS[(c[0], levels[(c[0], c[1])])],
        last_resort=lambda c: levels[(c[0], c[1])] == "la",
    )
    # The characteristic mart comes whole from dbt: every cell withheld is blanked here.
    added = withheld - {c for c in primary if c[0] != "char"}
    for mart, index, measure in added:
        blank(marts[mart][index], SEN_MEASURES[measure][1])
    return len(added)


def _characteristic_sums(by_sen: list[Row], by_char: list[Row]) -> list[Sum]:
    """A characteristic's groups add up to the area's `all` row; the schools of a group to
    the LA row; a sen_provision group is the attendance_by_sen row of that provision."""
    sums: list[Sum] = []
    provision_row = {
        (r["level"], r["area"], r["academic_year"], r["sen_provision"]): i
        for i, r in enumerate(by_sen)
    }
    all_row = {
        (r["level"], r["area"], r["academic_year"]): i
        for i, r in enumerate(by_char)
        if r["characteristic"] == "all"
    }
    for measure in SEN_MEASURES:
        parts: dict[tuple, list[tuple]] = defaultdict(list)
        totals: dict[tuple, tuple] = {}
        for index, row in enumerate(by_char):
            cell = ("char", index, measure)
            area = (row["level"], row["area"], row["academic_year"])
            if row["characteristic"] != "all":
                key = ("groups", *area, row["characteristic"])
                parts[key].append(cell)
                if area in all_row:
                    totals[key] = ("char", all_row[area], measure)
            key = ("la-char", row["academic_year"], row["characteristic"], row["group_value"])
            if row["level"] == "la":
                totals[key] = cell
            else:
                parts[key].append(cell)
            if row["characteristic"] == "sen_provision":
                twin = provision_row.get((*area, row["group_value"]))
                if twin is not None:
                    sums.append(Sum((cell,), ("sen", twin, measure)))
        sums += [Sum(tuple(cells), totals.get(key)) for key, cells in parts.items()]
    return sums


def _sen_sums(by_sen: list[Row], by_need: list[Row]) -> list[Sum]:
    sums: list[Sum] = []
    provision_row = {
        (r["level"], r["area"], r["academic_year"], r["sen_provision"]): i
        for i, r in enumerate(by_sen)
    }
    for measure in SEN_MEASURES:
        parts: dict[tuple, list[tuple]] = defaultdict(list)
        totals: dict[tuple, tuple] = {}
        for index, row in enumerate(by_sen):
            cell = ("sen", index, measure)
            parts[("area", row["level"], row["area"], row["academic_year"])].append(cell)
            key = ("la-sum", row["academic_year"], row["sen_provision"])
            if row["level"] == "la":
                totals[key] = cell
            else:
                parts[key].append(cell)
        for index, row in enumerate(by_need):
            cell = ("need", index, measure)
            group = (row["level"], row["area"], row["academic_year"], row["sen_provision"])
            parent = provision_row.get(group)
            parts[("needs", *group)].append(cell)
            if parent is not None:
                totals[("needs", *group)] = ("sen", parent, measure)
            key = ("la-need", row["academic_year"], row["sen_provision"], row["sen_primary_need"])
            if row["level"] == "la":
                totals[key] = cell
            else:
                parts[key].append(cell)
        sums += [Sum(tuple(cells), totals.get(key)) for key, cells in parts.items()]
    return sums


def known_sums(sums: list[Sum], values: dict[tuple, int], below: int) -> list[Sum]:
    """The sums an outsider knows: every sum with a total in the table, and a total
    published elsewhere (a roll, the LA's daily figures) only when it is not small, since
    those publications withhold 1 to 4 as well."""
    return [
        s for s in sums if s.total is not None or not 1 <= sum(values[c] for c in s.parts) < below
    ]


def suppress_school_daily(rows: list[Row], feed: list[Row]) -> int:
    """Primary (1 to 4 sessions) and secondary suppression of school_daily_attendance, in
    place, audited, the true counts taken from dfe_daily_attendance; pupils_expected goes
    with possible_sessions and the rate with the counts it is made of. Returns the cells
    withheld beyond the dbt mart's own (whole days of 1 to 4 pupils)."""
    truth = {(r["urn"], r["attendance_date"]): r for r in feed}
    below = suppress_counts_below()
    values: dict[tuple, int] = {}
    primary: set[tuple] = set()
    sums: list[Sum] = []
    by_date: dict[Any, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        true = truth[(row["urn"], row["session_date"])]
        by_date[row["session_date"]].append(index)
        for column, dfe_column in DAILY_TO_DFE.items():
            cell = (index, column)
            values[cell] = true[dfe_column]
            if row["suppressed"] or 1 <= values[cell] < below:
                primary.add(cell)
        sums.append(Sum(tuple((index, c) for c in DAILY_PARTS), (index, "possible_sessions")))
    for indexes in by_date.values():
        sums += [Sum(tuple((i, c) for i in indexes)) for c in DAILY_TO_DFE]
    table = Disclosure(values, frozenset(primary), known_sums(sums, values, below))
    withheld = protect(table, below)
    added = 0
    for index, column in withheld:
        row = rows[index]
        if row[column] is None:
            continue
        columns = [column]
        if column == "possible_sessions":
            columns.append("pupils_expected")
        if column in ("possible_sessions", "present_sessions", "aea_sessions"):
            columns.append("attendance_rate")
        blank(row, [c for c in columns if row[c] is not None])
        added += 1
    return added


def withheld_share(rows: list[Row], columns: tuple[str, ...]) -> dict[str, float | int]:
    """How much of a public table is withheld: cells of `columns` and rows."""
    cells = len(rows) * len(columns)
    blank_cells = sum(row[c] is None for row in rows for c in columns)
    blank_rows = sum(any(row[c] is None for c in columns) for row in rows)
    return {
        "rows": len(rows),
        "rows_withheld": blank_rows,
        "cells": cells,
        "cells_withheld": blank_cells,
        "rows_withheld_pct": round(100 * blank_rows / len(rows), 2) if rows else 0.0,
        "cells_withheld_pct": round(100 * blank_cells / cells, 2) if cells else 0.0,
    }


def write_dfe_extract(published_db: Path, path: Path) -> Path:
    """The DfE-style daily extract, as CSV at `path`: the mart dfe_daily_attendance of the
    publication in `published_db`, true counts, never suppressed (docs/bi.md)."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        rows = read_rows(con, "dfe_daily_attendance", "attendance_date, urn")
    leading = ["attendance_date", "urn"]
    return write_csv(
        [{c: r[c] for c in [*leading, *(k for k in r if k not in leading)]} for r in rows], path
    )


def write_csv(rows: list[Row], path: Path) -> Path:
    """Write `rows` as CSV beside `path` and rename it into place."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["urn"])
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomically(path, text.getvalue())
