"""Write the targeting meeting packs after a publication: `<folder>/<urn>.html` for every
school with school days, read from the published DuckDB file only (restricted marts, true
counts). Each file is written beside its place and renamed into it, with the restricted
file mode (0640 by default, warehouse/permissions.py): it lists pupils by UPN."""

from pathlib import Path

import duckdb

from serving.packs.listed import listed
from serving.packs.page import Pack, render
from serving.packs.provision import provision
from serving.reports import cohorts, figures, trends
from warehouse.files import write_text_atomically
from warehouse.permissions import make_folders


def write_targeting_packs(published_db: Path, folder: Path) -> list[Path]:
    """One pack per school of the publication, by URN; returns the files written."""
    make_folders(folder)
    written = []
    with duckdb.connect(str(published_db), read_only=True) as con:
        (as_of,) = con.execute(
            "select cast(max(as_of) as varchar) from pupil_attendance"
        ).fetchone()
        for area in figures.areas(con):
            if area.level == "school":
                path = folder / f"{area.code}.html"
                write_text_atomically(path, render(_pack(con, area, str(as_of))))
                written.append(path)
    return written


def _pack(con: duckdb.DuckDBPyConnection, area: figures.Area, as_of: str) -> Pack:
    school = trends.school_trends(con, area.code)
    la_code, _phase = trends.school_reference(con, area.code)
    return Pack(
        urn=area.code,
        title=area.title,
        as_of=as_of,
        benchmarks=school.benchmarks,
        listed=listed(con, area.code),
        school_cohorts=cohorts.cohort_rows(con, "school", area.code),
        la_cohorts=cohorts.cohort_rows(con, "la", la_code) if la_code else [],
        weeks=school.weeks,
        provision=provision(con, area.code),
    )
