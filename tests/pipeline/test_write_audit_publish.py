"""Write-audit-publish through the daily tasks' own functions: bad candidate marts are not
published; every result is kept."""

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from expectations.checkpoint import AuditFailed, AuditReport, audit
from expectations.scope import UPSTREAM_TABLES, audit_scope, publication_parameters
from pipeline import daily
from pipeline.run_info import RunInfo
from publication.record import read_record
from tests.support.published import file_fingerprints
from warehouse.build_stamp import write_build_stamp


def _audit_whole(
    warehouse: Path, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, object]:
    """The daily audit task, checking whole tables, of marts stamped as run `run_id`'s build
    (the tampering below stands for that run's build)."""
    monkeypatch.setenv("ATTENDANCE_AUDIT", "full")
    write_build_stamp(warehouse / "work", run_id, None)
    return daily.audit(RunInfo.for_day(None, warehouse=str(warehouse), run_id=run_id))


def _tamper(warehouse: Path, sql: str) -> None:
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        con.execute(sql)


def _quality_rows(warehouse: Path, run_id: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select expectation, column_name, severity, success, unexpected_count, sample "
            "from ops.quality_runs where run_id = ? order by all",
            [run_id],
        ).fetchall()


def test_a_passing_audit_is_recorded_with_its_data_docs(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _audit_whole(warehouse, "again", monkeypatch)
    rows = _quality_rows(warehouse, "again")
    assert len(rows) == result["expectations"] > 10
    assert all(success for _, _, _, success, _, _ in rows)
    assert Path(result["data_docs"]).is_file()
    assert "pupil_attendance" in Path(result["data_docs"]).read_text()


BAD_CANDIDATES = {
    "duplicate enrolment": (
        "insert into main.pupil_attendance select * from main.pupil_attendance limit 1",
        "expect_compound_columns_to_be_unique",
    ),
    "rate above one": (
        "update main.pupil_attendance set attendance_rate = 1.5 "
        "where upn = (select min(upn) from main.pupil_attendance)",
        "expect_column_values_to_be_between",
    ),
    "parts do not add up": (
        "update main.pupil_attendance set present_sessions = present_sessions + 1 "
        "where upn = (select min(upn) from main.pupil_attendance)",
        "unexpected_rows_expectation",
    ),
    "malformed UPN": (
        "update main.pupil_attendance set upn = 'NOT-A-UPN' "
        "where upn = (select min(upn) from main.pupil_attendance)",
        "expect_column_values_to_match_regex",
    ),
    "persistent absence flag wrong": (
        "update main.pupil_attendance set is_persistent_absence = not is_persistent_absence "
        "where upn = (select min(upn) from main.pupil_attendance)",
        "unexpected_rows_expectation",
    ),
    "silent collapse": (
        "delete from main.pupil_attendance where hash(upn) % 2 = 0",
        "expect_table_row_count_to_be_between",
    ),
    "as_of moved backwards": (
        "update main.pupil_attendance set as_of = as_of - interval 30 days",
        "unexpected_rows_expectation",
    ),
}


ONE_MARK = "from events.mark_events order by event_id limit 1"
BAD_UPSTREAM = {
    "session not AM or PM": (
        f"insert into events.mark_events select * replace ('XX' as session) {ONE_MARK}",
        "expect_column_values_to_be_in_set",
    ),
    "code not in the code set": (
        f"insert into events.mark_events select * replace ('ZZ' as code) {ONE_MARK}",
        "unexpected_rows_expectation",
    ),
    "session after the extract": (
        "insert into events.mark_events select * replace "
        f"(cast(session_date + interval 30 day as date) as session_date) {ONE_MARK}",
        "unexpected_rows_expectation",
    ),
    "mark for a pupil off roll": (
        "update main.fct_sessions set session_date = date '2001-01-03' "
        "where upn = (select min(upn) from main.fct_sessions) and session = 'AM'",
        "unexpected_rows_expectation",
    ),
    "incomplete register": (
        "delete from main.fct_sessions where urn = (select min(urn) from main.fct_sessions) "
        "and hash(upn || cast(session_date as varchar) || session) % 4 = 0",
        "unexpected_rows_expectation",
    ),
}
BAD_CANDIDATES.update(BAD_UPSTREAM)


@pytest.mark.parametrize("kind", list(BAD_CANDIDATES))
def test_the_gate_blocks_bad_marts_and_keeps_the_publication(
    warehouse: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql, expectation = BAD_CANDIDATES[kind]
    before = file_fingerprints(warehouse / "published")
    _tamper(warehouse, sql)
    with pytest.raises(AuditFailed) as failure:
        _audit_whole(warehouse, kind, monkeypatch)
    assert expectation in str(failure.value)
    assert "NOT-A-UPN" not in str(failure.value)  # values stay out of messages
    failed = [r for r in _quality_rows(warehouse, kind) if not r[3]]
    assert any(r[0] == expectation and r[2] == "critical" for r in failed)
    assert file_fingerprints(warehouse / "published") == before


def test_a_failed_check_keeps_a_sample_in_the_restricted_record(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql, _ = BAD_CANDIDATES["malformed UPN"]
    _tamper(warehouse, sql)
    with pytest.raises(AuditFailed):
        _audit_whole(warehouse, "sampled", monkeypatch)
    [row] = [r for r in _quality_rows(warehouse, "sampled") if not r[3]]
    assert row[4] == 1 and json.loads(row[5]) == ["NOT-A-UPN"]


def test_many_unresolved_n_marks_only_warn(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(
        warehouse,
        "update main.fct_sessions set code = 'N' where urn = (select min(urn) from "
        "main.fct_sessions) and is_possible and hash(upn || cast(session_date as varchar)) % 5 = 0",
    )
    result = _audit_whole(warehouse, "many-n", monkeypatch)
    warned = [r for r in _quality_rows(warehouse, "many-n") if not r[3]]
    assert result["warnings"] == 1 and [(r[0], r[2], r[4]) for r in warned] == [
        ("unexpected_rows_expectation", "warning", 1)
    ]


def test_a_warning_is_reported_but_publication_goes_ahead(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(
        warehouse,
        "update main.pupil_attendance set sen_primary_need = null "
        "where upn = (select min(upn) from main.pupil_attendance where sen_provision = 'K')",
    )
    result = _audit_whole(warehouse, "warned", monkeypatch)
    assert result["warnings"] == 1
    warned = [r for r in _quality_rows(warehouse, "warned") if not r[3]]
    assert [(r[2], r[4]) for r in warned] == [("warning", 1)]


def _scoped_audit(warehouse: Path) -> AuditReport:
    published = read_record(warehouse / "published")
    return audit(
        warehouse / "warehouse.duckdb",
        list(UPSTREAM_TABLES),
        parameters=publication_parameters(published.as_dict(), ()),
        scoped=True,
    )


def _failed(report: AuditReport) -> list[str]:
    return [f"{o.table}: {o.expectation_type}" for o in report.failures]


def test_a_daily_audit_checks_the_upstream_rows_stored_since_the_publication(
    warehouse: Path,
) -> None:
    assert read_record(warehouse / "published").loaded_through
    # A bad mark event stored since the publication is checked and blocks...
    _tamper(
        warehouse,
        "insert into events.mark_events select * replace ('ZZ' as code, now() as ingested_at) "
        f"{ONE_MARK}",
    )
    assert _failed(_scoped_audit(warehouse)) == [
        "stg_register__mark_events: unexpected_rows_expectation"
    ]


def test_a_daily_audit_leaves_rows_the_last_publication_checked(warehouse: Path) -> None:
    # ...one that claims to be as old as the published ones is the weekly whole audit's.
    _tamper(warehouse, BAD_UPSTREAM["code not in the code set"][0])
    assert _failed(_scoped_audit(warehouse)) == []
    assert _failed(audit(warehouse / "warehouse.duckdb", list(UPSTREAM_TABLES))) == [
        "stg_register__mark_events: unexpected_rows_expectation"
    ]


def test_the_session_facts_are_checked_from_the_earliest_day_with_new_marks(
    warehouse: Path,
) -> None:
    # An incomplete register on the last day: a late mark for that day was just stored, so the
    # daily audit checks that day's sessions (and any later), and finds the gap.
    _tamper(
        warehouse,
        """
        delete from main.fct_sessions
        where urn = (select min(urn) from main.fct_sessions)
          and session_date = (select max(session_date) from main.fct_sessions)
          and hash(upn || session) % 2 = 0;
        update main.fct_sessions set ingested_at = now()
        where (upn, session_date, session) in (
            select upn, session_date, session from main.fct_sessions
            where session_date = (select max(session_date) from main.fct_sessions)
            limit 1
        );
        """,
    )
    assert _failed(_scoped_audit(warehouse)) == ["fct_sessions: unexpected_rows_expectation"]


@pytest.mark.parametrize(
    ("manifest", "as_of", "environment", "scoped"),
    [
        ({"as_of": "2025-09-17 16:00:00+00", "loaded_through": "x"}, "2025-09-18", "", True),
        # The first audit of a week (Monday after Friday) checks everything.
        ({"as_of": "2025-09-19 16:00:00+00", "loaded_through": "x"}, "2025-09-22", "", False),
        ({"as_of": "2025-09-17 16:00:00+00", "loaded_through": "x"}, "2025-09-18", "full", False),
        ({"as_of": "2025-09-17 16:00:00+00"}, "2025-09-18", "", False),
        (None, "2025-09-18", "", False),
        # A re-run of an older day.
        ({"as_of": "2025-09-17 16:00:00+00", "loaded_through": "x"}, "2025-09-16", "", False),
    ],
)
def test_when_a_daily_audit_may_check_only_new_rows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    manifest: dict[str, str] | None,
    as_of: str,
    environment: str,
    scoped: bool,
) -> None:
    monkeypatch.setenv("ATTENDANCE_AUDIT", environment)
    when = datetime.fromisoformat(f"{as_of} 16:00:00+00:00")
    assert audit_scope(manifest, when)[0] is scoped
