"""HTML attendance reports: one per LA and one per school, after each publication.

Each file is self-contained (inline CSS and SVG charts, no script, nothing fetched), so it
can be mailed or opened from a share. Figures come from the published DuckDB file only.
The reports are for the LA's attendance hub and the school (restricted readership), but
groups of 1 to 4 pupils are still shown as withheld, as in the aggregate marts.
"""

import csv
import html
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.files import write_text_atomically
from warehouse.permissions import make_folders
from warehouse.project import SEEDS_DIR, suppress_counts_below

REGISTER_CODES = SEEDS_DIR / "register_codes.csv"

# Absence episodes by length in sessions: (label, shortest, longest).
EPISODE_LENGTHS = (
    ("1 session", 1, 1),
    ("2-3 sessions", 2, 3),
    ("4-9 sessions", 4, 9),
    ("10-19 sessions", 10, 19),
    ("20+ sessions", 20, 10**9),
)
SUPPORT_FLAGS = (
    "persistent_absence",
    "severe_absence",
    "illness_15_days",
    "penalty_threshold",
    "unresolved_n",
    "support_first",
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: withheld
    text: str


def write_html_reports(published_db: Path, folder: Path) -> list[Path]:
    """Write `la_<code>.html` and `school_<urn>.html` for every area of the publication."""
    make_folders(folder)
    written = []
    with duckdb.connect(str(published_db), read_only=True) as con:
        las = [
            r[0]
            for r in con.execute(
                "select distinct area from attendance_by_sen where level = 'la' order by 1"
            ).fetchall()
        ]
        urns = [
            r[0]
            for r in con.execute(
                "select distinct urn from school_daily_attendance order by 1"
            ).fetchall()
        ]
        areas = [("la", code, "true") for code in las] + [
            ("school", urn, f"urn = '{urn}'") for urn in urns
        ]
        for level, area, where in areas:
            title = f"Local authority {area}" if level == "la" else f"School {area}"
            path = folder / f"{level}_{area}.html"
            write_text_atomically(path, render(con, title, where))
            written.append(path)
    return written


def render(con: duckdb.DuckDBPyConnection, title: str, where: str) -> str:
    as_of = con.execute("select cast(max(as_of) as varchar) from pupil_attendance").fetchone()[0]
    sections = [
        (
            "Attendance by week",
            "Present and approved educational activity as a share of "
            "possible sessions, Monday-to-Sunday weeks.",
            _weekly(con, where),
            True,
        ),
        ("Absence by reason", "Sessions of absence by register code.", _reasons(con, where), False),
        (
            "Persistent absence by SEN provision",
            "Share of enrolments missing 10% or more of "
            "possible sessions; the dashed line is the rate of all pupils.",
            _persistent(con, where, "sen_provision"),
            True,
        ),
        (
            "Persistent absence by primary need",
            "Pupils with SEN support (K) or an EHC plan (E), by primary need.",
            _persistent(con, where, "sen_primary_need", "sen_provision in ('K', 'E')"),
            True,
        ),
        (
            "Absence episodes by length",
            "Runs of consecutive absence sessions.",
            _episodes(con, where),
            False,
        ),
        (
            "Support list",
            "Enrolments on the hub's action list, by flag.",
            _support(con, where),
            False,
        ),
    ]
    reference = _all_pupil_rate(con, where)
    body = []
    for heading, note, bars, is_rate in sections:
        line = reference if heading.startswith("Persistent") else None
        if line is not None:
            note += f" All pupils: {line:.1%}."
        body.append(
            f"<section><h2>{html.escape(heading)}</h2><p>{html.escape(note)}</p>"
            f"{_chart(bars, is_rate, line)}</section>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}: attendance</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 60rem; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; }}
p {{ color: #505a5f; }} svg text {{ font-size: 13px; fill: #1b1b1b; }}
.bar {{ fill: #1d70b8; }} .withheld {{ fill: #b1b4b6; }} .line {{ stroke: #d4351c; }}
</style></head><body>
<h1>{html.escape(title)}: attendance</h1>
<p>Figures as of {html.escape(str(as_of))}. Groups of 1 to {suppress_counts_below() - 1} pupils are
withheld (grey).</p>
{"".join(body)}
</body></html>
"""


def _chart(bars: list[Bar], is_rate: bool, line: float | None) -> str:
    if not bars:
        return "<p><em>No data yet.</em></p>"
    width, label_w, row_h = 720, 210, 24
    top = max([b.value or 0 for b in bars] + [line or 0]) or 1
    scale = 1.0 if is_rate else top
    plot = width - label_w - 90
    parts = [f'<svg role="img" width="{width}" height="{row_h * len(bars) + 10}">']
    for i, bar in enumerate(bars):
        y = i * row_h + 4
        length = 0 if bar.value is None else plot * bar.value / scale
        css = "withheld" if bar.value is None else "bar"
        shown = 40 if bar.value is None else length
        parts.append(
            f'<text x="0" y="{y + 15}">{html.escape(bar.label)}</text>'
            f'<rect class="{css}" x="{label_w}" y="{y}" width="{shown:.1f}" height="18"'
            f' data-value="{"" if bar.value is None else bar.value}"></rect>'
            f'<text x="{label_w + shown + 6:.1f}" y="{y + 15}">{html.escape(bar.text)}</text>'
        )
    if line is not None:
        x = label_w + plot * line / scale
        parts.append(
            f'<line class="line" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{row_h * len(bars) + 6}"'
            f' stroke-dasharray="4 3" data-value="{line}"></line>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _rate_bar(label: str, part: int, whole: int) -> Bar:
    if suppress_counts_below() > whole >= 1:
        return Bar(label, None, "withheld")
    rate = part / whole if whole else 0.0
    return Bar(label, rate, f"{rate:.1%} of {whole}")


def _count_bar(label: str, count: int) -> Bar:
    if suppress_counts_below() > count >= 1:
        return Bar(label, None, "withheld")
    return Bar(label, float(count), str(count))


def _weekly(con: duckdb.DuckDBPyConnection, where: str) -> list[Bar]:
    rows = con.execute(
        "select date_trunc('week', session_date) as week, sum(present_sessions + aea_sessions),"
        f" sum(possible_sessions) from school_daily_attendance where {where} and not suppressed"
        " group by week order by week"
    ).fetchall()
    return [_rate_bar(f"w/c {week:%d %b %Y}", int(part), int(whole)) for week, part, whole in rows]


def _reasons(con: duckdb.DuckDBPyConnection, where: str) -> list[Bar]:
    rows = con.execute(
        "select register_code, sum(sessions) from school_daily_reasons where "
        f"{where} and category in ('authorised', 'unauthorised') group by 1 order by 2 desc, 1"
    ).fetchall()
    names = _code_descriptions()
    return [_count_bar(f"{code} {names.get(code, '')}"[:24], int(n)) for code, n in rows]


def _code_descriptions() -> dict[str, str]:
    with REGISTER_CODES.open(newline="", encoding="utf-8") as handle:
        return {
            r["code"]: r["description"] for r in csv.DictReader(handle) if r["code_set"] == "2024"
        }


def _persistent(
    con: duckdb.DuckDBPyConnection, where: str, column: str, extra: str = "true"
) -> list[Bar]:
    rows = con.execute(
        f"select coalesce({column}, 'unknown'), count(*) filter (where is_persistent_absence),"
        f" count(*) from pupil_attendance where {where} and {extra} group by 1 order by 1"
    ).fetchall()
    return [_rate_bar(str(group), int(part), int(whole)) for group, part, whole in rows]


def _all_pupil_rate(con: duckdb.DuckDBPyConnection, where: str) -> float | None:
    part, whole = con.execute(
        "select count(*) filter (where is_persistent_absence), count(*) from pupil_attendance"
        f" where {where}"
    ).fetchone()
    return part / whole if whole else None


def _episodes(con: duckdb.DuckDBPyConnection, where: str) -> list[Bar]:
    bars = []
    for label, shortest, longest in EPISODE_LENGTHS:
        (count,) = con.execute(
            f"select count(*) from absence_episodes where {where} and sessions between ? and ?",
            [shortest, longest],
        ).fetchone()
        bars.append(_count_bar(label, int(count)))
    return bars


def _support(con: duckdb.DuckDBPyConnection, where: str) -> list[Bar]:
    counts = con.execute(
        "select "
        + ", ".join(f"count(*) filter (where {f})" for f in SUPPORT_FLAGS)
        + f" from pupils_for_support where {where}"
    ).fetchone()
    return [
        _count_bar(flag.replace("_", " "), int(n))
        for flag, n in zip(SUPPORT_FLAGS, counts, strict=True)
    ]
