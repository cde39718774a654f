"""The short account of a publication that people read first: rates (for all pupils on roll,
and DfE-comparable for compulsory school age only), SEN gap, quarantine, where to look. Read
from the published folder alone."""

from dataclasses import dataclass
from pathlib import Path

import duckdb

from publication.record import PublicationRecord, read_record
from serving.reports import headlines


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
    database: str
    # The DfE-comparable headline: pupils of compulsory school age only.
    comparable: headlines.Headline | None = None
    # The action list: pupils listed, and those new since the previous publication.
    listed: int = 0
    newly_listed: int = 0

    def render(self) -> str:
        lines = [
            f"Published marts as of {self.as_of}: {self.published}",
            f"  DuckDB file: {self.published / self.database}",
            f"  Parquet:     {self.published / 'parquet' / 'current'} (version {self.version})",
            f"Enrolments: {self.enrolments} ({headlines.ALL_PUPILS_SHORT}, including those "
            "below or above compulsory school age)",
            f"Attendance rate: {self.attendance_rate:.2%} ({headlines.ALL_PUPILS_SHORT})",
        ]
        if self.comparable is not None:
            lines.append(
                f"DfE-comparable headline ({headlines.COMPULSORY_SHORT}): "
                + headlines.one_line(self.comparable)
            )
        lines += [
            f"Persistent absence by SEN provision ({headlines.ALL_PUPILS_SHORT}):",
        ]
        names = {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}
        for provision in ("N", "K", "E"):
            count, rate = self.persistent_absence_by_sen.get(provision, (0, 0.0))
            lines.append(f"  {provision} ({names[provision]}): {rate:.1%} of {count} enrolments")
        lines.append(
            f"Action list: {self.listed} pupils listed, {self.newly_listed} newly listed "
            "since the previous publication"
        )
        lines.append(
            f"Quarantined rows: {self.rows_quarantined}; rejected files: {self.files_rejected}"
        )
        return "\n".join(lines)


def summarise(published: Path, record: PublicationRecord | None = None) -> RunSummary:
    """The summary of the publication in `published` (whose record the caller may have read)."""
    record = record or read_record(published)
    if record is None:
        raise FileNotFoundError(f"there is no publication in {published}")
    with duckdb.connect(str(published / record.database), read_only=True) as con:
        as_of, enrolments, rate = con.execute(
            """
            select cast(max(as_of) as varchar), count(*),
                sum(present_sessions + aea_sessions) / sum(possible_sessions)
            from pupil_attendance
            where academic_year = (select max(academic_year) from pupil_attendance)
            """
        ).fetchone()
        by_sen = {
            provision: (count, share)
            for provision, count, share in con.execute(
                """
                select sen_provision, count(*), avg(is_persistent_absence::int)
                from pupil_attendance
                where academic_year = (select max(academic_year) from pupil_attendance)
                group by sen_provision
                """
            ).fetchall()
        }
        comparable = headlines.headline(con, compulsory_only=True)
        listed, newly_listed = con.execute(
            "select count(*), count(*) filter (where newly_listed) from pupils_for_support"
            " where academic_year = (select max(academic_year) from pupils_for_support)"
        ).fetchone()
    return RunSummary(
        as_of,
        record.version,
        enrolments,
        rate or 0.0,
        by_sen,
        record.rows_quarantined,
        record.files_rejected,
        published,
        record.database,
        comparable,
        listed,
        newly_listed,
    )
