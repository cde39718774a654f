"""The short account of a run that people read first: rates, SEN gap, quarantine, where to look."""

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.duckdb_limits import connect
from ingestion.locations import Locations
from ingestion.publish import PUBLISHED_DB


@dataclass(frozen=True)
class RunSummary:
    as_of: str
    version: str
    enrolments: int
    attendance_rate: float
    persistent_absence_by_sen: dict[str, tuple[int, float]]
    rows_quarantined: int
    files_rejected: int
    published: Path

    def render(self) -> str:
        lines = [
            f"Published marts as of {self.as_of}: {self.published}",
            f"  DuckDB file: {self.published / PUBLISHED_DB}",
            f"  Parquet:     {self.published / 'parquet' / 'current'} (version {self.version})",
            f"Enrolments: {self.enrolments}",
            f"Attendance rate: {self.attendance_rate:.2%}",
            "Persistent absence by SEN provision:",
        ]
        names = {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}
        for provision in ("N", "K", "E"):
            count, rate = self.persistent_absence_by_sen.get(provision, (0, 0.0))
            lines.append(f"  {provision} ({names[provision]}): {rate:.1%} of {count} enrolments")
        lines.append(
            f"Quarantined rows: {self.rows_quarantined}; rejected files: {self.files_rejected}"
        )
        return "\n".join(lines)


def summarise(locations: Locations) -> RunSummary:
    with duckdb.connect(str(locations.published / PUBLISHED_DB), read_only=True) as con:
        as_of, enrolments, rate = con.execute(
            """
            select cast(max(as_of) as varchar), count(*),
                sum(present_sessions + aea_sessions) / sum(possible_sessions)
            from pupil_attendance
            """
        ).fetchone()
        (version,) = con.execute("select version from publication").fetchone()
        by_sen = {
            provision: (count, share)
            for provision, count, share in con.execute(
                """
                select sen_provision, count(*), avg(is_persistent_absence::int)
                from pupil_attendance group by sen_provision
                """
            ).fetchall()
        }
    with connect(locations.warehouse_db, read_only=True) as con:
        quarantined, rejected = con.execute(
            "select coalesce(sum(rows_quarantined), 0), count(*) filter (where rejected) "
            "from ops.ingest_audit"
        ).fetchone()
    return RunSummary(
        as_of,
        version,
        enrolments,
        rate or 0.0,
        by_sen,
        int(quarantined),
        int(rejected),
        locations.published,
    )
