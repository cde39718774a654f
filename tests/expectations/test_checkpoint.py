"""The publication gate: GX suites run against small DuckDB files built here."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from expectations.checkpoint import (
    AuditFailed,
    AuditReport,
    SuiteError,
    audit,
    audit_or_raise,
    load_suite,
)
from ingestion.rules.upn import make_upn

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

TABLE = "pupil_attendance"
COLUMNS = """
    urn VARCHAR, upn VARCHAR, academic_year VARCHAR, possible_sessions INTEGER,
    present_sessions INTEGER, aea_sessions INTEGER, authorised_absence_sessions INTEGER,
    unauthorised_absence_sessions INTEGER, attendance_rate DOUBLE, overall_absence_rate DOUBLE,
    is_persistent_absence BOOLEAN, is_severe_absence BOOLEAN, sen_provision VARCHAR,
    sen_primary_need VARCHAR, as_of TIMESTAMP WITH TIME ZONE
"""
Row = dict[str, Any]


def pupil(
    serial: int,
    *,
    possible: int = 300,
    authorised: int = 0,
    unauthorised: int = 0,
    aea: int = 0,
    sen: str = "N",
    need: str | None = None,
) -> Row:
    """A consistent row: rates and flags computed from the session counts."""
    absent = authorised + unauthorised
    absence_rate = absent / possible
    return {
        "urn": "100123",
        "upn": make_upn("881", "2001", 2025, serial),
        "academic_year": "2024/25",
        "possible_sessions": possible,
        "present_sessions": possible - absent - aea,
        "aea_sessions": aea,
        "authorised_absence_sessions": authorised,
        "unauthorised_absence_sessions": unauthorised,
        "attendance_rate": (possible - absent) / possible,
        "overall_absence_rate": absence_rate,
        "is_persistent_absence": absence_rate >= 0.1,
        "is_severe_absence": absence_rate >= 0.5,
        "sen_provision": sen,
        "sen_primary_need": need,
        "as_of": "2025-03-01 18:00:00+00",
    }


def valid_rows() -> list[Row]:
    return [
        pupil(1),
        pupil(2, authorised=20, unauthorised=10),  # exactly 10%: persistently absent
        pupil(3, authorised=10, unauthorised=6, aea=4),
        pupil(4, authorised=90, unauthorised=75),  # 55%: severely absent too
        pupil(5, authorised=3, sen="K", need="SPLD"),
        pupil(6, unauthorised=2, sen="E", need="ASD"),
    ]


def write_table(path: Path, rows: list[Row]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(f"create or replace table {TABLE} ({COLUMNS})")
        names = list(rows[0])
        con.executemany(
            f"insert into {TABLE} ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
            [[row[name] for name in names] for row in rows],
        )
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Callable[[list[Row]], Path]:
    return lambda rows: write_table(tmp_path / "warehouse.duckdb", rows)


def test_valid_table_passes(warehouse: Callable[[list[Row]], Path]) -> None:
    report = audit_or_raise(warehouse(valid_rows()), [TABLE])
    assert report.success
    assert report.failures == () and report.warnings == ()
    assert len(report.outcomes) == len(load_suite(TABLE).expectations)
    assert all(outcome.success and outcome.error is None for outcome in report.outcomes)


def _break(index: int, **changes: Any) -> Callable[[list[Row]], None]:
    def change(rows: list[Row]) -> None:
        rows[index].update(changes)

    return change


def _duplicate_first(rows: list[Row]) -> None:
    rows.append(dict(rows[0]))


@pytest.mark.parametrize(
    ("change", "named", "unexpected", "failures"),
    [
        pytest.param(
            _duplicate_first,
            "expect_compound_columns_to_be_unique on urn, upn, academic_year",
            2,
            1,
            id="duplicate key",
        ),
        pytest.param(
            _break(1, attendance_rate=1.5),
            "expect_column_values_to_be_between on attendance_rate",
            1,
            2,
            id="rate above 1",
        ),
        pytest.param(
            _break(2, present_sessions=281),
            "unexpected_rows_expectation: 1 row breaks this rule. Rule: possible_sessions equals",
            1,
            1,
            id="parts do not sum to possible",
        ),
        pytest.param(
            _break(3, upn="NOT-A-UPN"),
            "expect_column_values_to_match_regex on upn",
            1,
            1,
            id="malformed upn",
        ),
        pytest.param(
            _break(1, is_persistent_absence=False),
            "Rule: is_persistent_absence is true exactly when",
            1,
            1,
            id="persistent absence flag inconsistent",
        ),
    ],
)
def test_bad_data_withholds_publication_naming_the_expectation(
    warehouse: Callable[[list[Row]], Path],
    change: Callable[[list[Row]], None],
    named: str,
    unexpected: int,
    failures: int,
) -> None:
    rows = valid_rows()
    change(rows)
    with pytest.raises(AuditFailed) as raised:
        audit_or_raise(warehouse(rows), [TABLE])

    message = str(raised.value)
    assert named in message
    assert "Publication withheld" in message
    assert "previous publication is still in place" in message
    report = raised.value.report
    assert isinstance(report, AuditReport) and not report.success
    # Only the rules this change breaks (a rate above 1 also breaks rates adding up to 1).
    assert len(report.failures) == failures, [str(f) for f in report.failures]
    (failure,) = [f for f in report.failures if named in f.describe()]
    assert failure.unexpected_count == unexpected
    # Values from the table could identify a pupil: the message has counts only.
    for row in rows:
        assert row["upn"] not in message
    assert "NOT-A-UPN" not in message


def test_warning_is_reported_without_blocking(warehouse: Callable[[list[Row]], Path]) -> None:
    rows = valid_rows()
    rows[4]["sen_primary_need"] = None  # on SEN support, but no primary need recorded
    report = audit_or_raise(warehouse(rows), [TABLE])

    assert report.success and report.failures == ()
    (warning,) = report.warnings
    assert warning.severity == "warning"
    assert warning.expectation_type == "unexpected_rows_expectation"
    assert warning.unexpected_count == 1
    assert "primary type of need" in str(warning)


def test_failure_message_lists_warnings_separately(
    warehouse: Callable[[list[Row]], Path],
) -> None:
    rows = valid_rows()
    rows[0]["sen_provision"] = "X"
    rows[4]["sen_primary_need"] = None
    with pytest.raises(AuditFailed) as raised:
        audit_or_raise(warehouse(rows), [TABLE])
    blocking, _, reported_only = str(raised.value).partition("reported only, not blocking")
    assert "expect_column_values_to_be_in_set on sen_provision" in blocking
    assert "value_set=['N', 'K', 'E']" in blocking
    assert "primary type of need" in reported_only


def test_a_rule_that_cannot_run_blocks_publication(
    warehouse: Callable[[list[Row]], Path],
) -> None:
    database = warehouse(valid_rows())
    with duckdb.connect(str(database)) as con:
        con.execute(f"alter table {TABLE} drop column aea_sessions")
    with pytest.raises(AuditFailed) as raised:
        audit_or_raise(database, [TABLE])
    (failure,) = raised.value.report.failures
    assert failure.error is not None and failure.unexpected_count is None
    assert "could not be checked" in str(raised.value)
    assert "possible_sessions equals" in str(raised.value)


@pytest.mark.parametrize("fails", [False, True], ids=["passing audit", "failing audit"])
def test_file_can_be_opened_for_writing_after_audit(
    warehouse: Callable[[list[Row]], Path], fails: bool
) -> None:
    rows = valid_rows()
    if fails:
        rows[0]["possible_sessions"] = 0
    database = warehouse(rows)
    report = audit(database, [TABLE])
    assert report.success is not fails
    # DuckDB refuses a read-write connection in a process that still has the file open
    # read-only, so this fails if any connection GX opened was left open.
    with duckdb.connect(str(database)) as con:
        con.execute(f"delete from {TABLE}")


def test_audit_opens_the_file_read_only(warehouse: Callable[[list[Row]], Path]) -> None:
    database = warehouse(valid_rows())
    # Another process reading the file: DuckDB then lets this process read it too, but not
    # write to it.
    reader = subprocess.Popen(
        [sys.executable, "-c", _HOLD_READ_ONLY, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(database))
        assert audit(database, [TABLE]).success
    finally:
        reader.communicate("")


_HOLD_READ_ONLY = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.read()
"""


def test_three_thousand_rows_are_audited_quickly(tmp_path: Path) -> None:
    database = tmp_path / "big.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"create table {TABLE} ({COLUMNS})")
        con.execute(
            f"""
            insert into {TABLE}
            select lpad((100000 + i % 40)::varchar, 6, '0'), 'A' || lpad(i::varchar, 12, '0'),
                '2024/25', 300, 300 - i % 60 - 2, 2, (i % 60) // 2, i % 60 - (i % 60) // 2,
                (300 - i % 60) / 300, (i % 60) / 300, (i % 60) / 300 >= 0.1,
                (i % 60) / 300 >= 0.5, 'N', null, timestamptz '2025-03-01 18:00:00+00'
            from range(3000) t(i)
            """
        )
    audit(database, [TABLE])  # the first audit in a process pays for importing GX
    report = audit(database, [TABLE])
    assert report.success
    assert report.elapsed_seconds < 5, report.elapsed_seconds


def test_missing_table_withholds_publication(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()
    with pytest.raises(AuditFailed, match="table 'pupil_attendance' could not be read"):
        audit(database, [TABLE])
    duckdb.connect(str(database)).close()


def test_missing_database_withholds_publication(tmp_path: Path) -> None:
    with pytest.raises(AuditFailed, match="does not exist"):
        audit(tmp_path / "nowhere.duckdb", [TABLE])


def test_table_without_suite_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="No expectation suite for table 'unknown_mart'"):
        load_suite("unknown_mart", tmp_path)


def _suite_with(tmp_path: Path, expectation: dict[str, Any]) -> Path:
    suite = {"name": "t", "table": "t", "expectations": [expectation]}
    (tmp_path / "t.json").write_text(json.dumps(suite))
    return tmp_path


@pytest.mark.parametrize(
    ("expectation", "problem"),
    [
        (
            {"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "severty": "critical"},
            "unknown keys ['severty']",
        ),
        (
            {"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "severity": "fatal"},
            "'severity' must be one of",
        ),
        (
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": "SELECT * FROM t WHERE a < 0"},
                "severity": "critical",
                "description": "a is not negative",
            },
            "must select FROM {batch}",
        ),
        (
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE a < 0"},
                "severity": "critical",
            },
            "needs a 'description'",
        ),
    ],
)
def test_malformed_suites_are_refused(
    tmp_path: Path, expectation: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SuiteError, match=r"t\.json, expectation 1") as raised:
        load_suite("t", _suite_with(tmp_path, expectation))
    assert problem in str(raised.value)


def test_unknown_expectation_type_is_refused(
    tmp_path: Path, warehouse: Callable[[list[Row]], Path]
) -> None:
    database = warehouse(valid_rows())
    suites = tmp_path / "suites"
    suites.mkdir()
    suite = {
        "name": TABLE,
        "table": TABLE,
        "expectations": [
            {"type": "expect_column_to_be_lovely", "kwargs": {}, "severity": "critical"}
        ],
    }
    (suites / f"{TABLE}.json").write_text(json.dumps(suite))
    with pytest.raises(
        SuiteError, match="GX has no expectation called 'expect_column_to_be_lovely'"
    ):
        audit(database, [TABLE], suites_dir=suites)
