"""HTML attendance reports: one per LA and one per school, after each publication.

Each file is self-contained (inline CSS and SVG charts, no script, nothing fetched), so it
can be mailed or opened from a share. Figures come from the published DuckDB file only. The
reports are for the LA's attendance hub and the school (restricted readership), so every
figure is the true count, small ones included: suppression is for what is shared widely
(docs/bi.md). Each chart has a title, a text summary and a table of its figures
(serving/reports/charts.py).
"""

import html
from pathlib import Path

import duckdb

from serving.reports import figures, headlines, trends
from serving.reports.charts import figure
from serving.reports.line_chart import line_figure
from warehouse.files import write_text_atomically
from warehouse.permissions import make_folders

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 60rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
p, summary { color: #505a5f; } figure { margin: 0; }
svg text { font-size: 13px; fill: #1b1b1b; } svg .tick { fill: #505a5f; }
.bar { fill: #1d70b8; } .grid { stroke: #dddddd; } .line { stroke: #d4351c; stroke-width: 2; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.2rem 0.6rem; text-align: right; }
th[scope="row"], thead th:first-child { text-align: left; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
.trend { stroke: #1d70b8; stroke-width: 2; } .trend-point { fill: #1d70b8; }
.trend-last { stroke: #505a5f; stroke-width: 2; } .trend-last-point { fill: #505a5f; }
"""


def write_html_reports(published_db: Path, folder: Path) -> list[Path]:
    """Write `la_<code>.html` and `school_<urn>.html` for every area of the publication."""
    make_folders(folder)
    written = []
    with duckdb.connect(str(published_db), read_only=True) as con:
        for area in figures.areas(con):
            path = folder / area.filename
            write_text_atomically(path, render(con, area))
            written.append(path)
    return written


def trend_sections(con: duckdb.DuckDBPyConnection, area: figures.Area) -> str:
    """The year-to-date trend beside last year, and the area against England and the region
    (the DfE's published figures, compared with the compulsory-school-age figure)."""
    if area.level == "school":
        la_code, phase = trends.school_reference(con, area.code)
    else:
        la_code, phase = area.code, trends.ALL_PHASES
    chart = trends.trend_chart(trends.weekly_rows(con, area.level, area.code))
    rates = trends.benchmark_comparison(con, area.urns, la_code, phase)
    return (
        f'<section aria-labelledby="{chart.key}-heading"><h2 id="{chart.key}-heading">'
        f"{html.escape(chart.title)}</h2><p>{html.escape(chart.note)}</p>"
        f"{line_figure(chart)}</section>"
        '<section aria-labelledby="benchmarks-heading"><h2 id="benchmarks-heading">'
        "Against England and the region</h2><p>The DfE's published figures count pupils of "
        "compulsory school age in state-funded schools, so the comparable figure here is the "
        "compulsory-school-age column; the all-pupil one includes nursery and reception "
        "pupils and pupils over 15. Persistent and severe absence are shares of enrolments "
        "here, of pupils in the DfE's figures.</p>"
        f"{trends.comparison_table(rates)}</section>"
    )


def render(con: duckdb.DuckDBPyConnection, area: figures.Area) -> str:
    as_of = con.execute("select cast(max(as_of) as varchar) from pupil_attendance").fetchone()[0]
    top, comparable = headlines.both(con, area.urns)
    all_pupils = top.persistent_absence_rate
    charts = (
        figures.weekly(con, area),
        figures.reasons(con, area),
        figures.persistent(con, area, by_need=False, all_pupils=all_pupils),
        figures.persistent(con, area, by_need=True, all_pupils=all_pupils),
        figures.episodes(con, area),
        figures.support(con, area),
    )
    sections = "".join(
        f'<section aria-labelledby="{c.key}-heading"><h2 id="{c.key}-heading">'
        f"{html.escape(c.title)}</h2><p>{html.escape(c.note)}</p>{figure(c)}</section>"
        for c in charts
    )
    title = html.escape(area.title)
    trend = trend_sections(con, area)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: attendance</title>
<style>{STYLE}</style></head><body>
<header><h1>{title}: attendance</h1>
<p>Figures as of {html.escape(str(as_of))}, this academic year to date. Every figure is the
true count, small ones included: this report is for the LA's attendance hub and the school,
not for wider sharing.</p></header>
<main>
<section aria-labelledby="headline-heading"><h2 id="headline-heading">In short</h2>
{_headline(top, comparable)}</section>
{trend}
{sections}
</main>
</body></html>
"""


def _headline(top: headlines.Headline, comparable: headlines.Headline) -> str:
    """Both populations side by side, each column saying whom it counts."""
    measures = (
        ("Enrolments", lambda h: f"{h.enrolments:,}"),
        ("Attendance rate", lambda h: headlines.percent(h.attendance_rate)),
        ("Overall absence rate", lambda h: headlines.percent(h.absence_rate)),
        ("Persistently absent", lambda h: f"{h.persistent_absence:,}"),
        ("Persistent absence rate", lambda h: headlines.percent(h.persistent_absence_rate)),
        ("Severely absent", lambda h: f"{h.severe_absence:,}"),
        ("Severe absence rate", lambda h: headlines.percent(h.severe_absence_rate)),
    )
    rows = "".join(
        f'<tr><th scope="row">{name}</th><td>{shown(top)}</td><td>{shown(comparable)}</td></tr>'
        for name, shown in measures
    )
    return (
        "<p>Two populations: every pupil on roll, and pupils of compulsory school age only "
        "(5 to 15 on the 31 August before the year), as the DfE's national statistics count "
        "them. Compare the second column with national figures.</p>"
        '<table id="headline-table"><caption>Headline figures, this year to date</caption>'
        '<thead><tr><th scope="col">Measure</th>'
        f'<th scope="col">{html.escape(top.population)}</th>'
        f'<th scope="col">{html.escape(comparable.population)} (DfE-comparable)</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
