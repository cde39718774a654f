"""Real DAG runs (Airflow's dag.test, real dbt, real Great Expectations) on generated data."""

import hashlib
import re
from pathlib import Path

import duckdb
import pytest

from synthetic import SyntheticLA
from tests.support.cli import run_cli
from tests.support.extracts import deliver
from tests.support.truth.registers import expected_pupil_attendance

DAYS = 3
# Two DAG runs (each a whole ingest, build, audit and publish): day 0's extracts, then days 1
# and 2's, landed together a day late, for day 2. The second is a week's second audit, and
# the data ends with the closure day (day 2), as three runs day by day would leave it.
RUNS = (range(0, 1), range(1, DAYS))
COLUMNS = [
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_absence_sessions",
    "unauthorised_absence_sessions",
    "attendance_rate",
    "overall_absence_rate",
    "is_persistent_absence",
    "is_severe_absence",
    "sen_provision",
    "sen_primary_need",
]


@pytest.fixture(scope="module")
def published_run(
    tiny_la: SyntheticLA, airflow_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Run by run, the run's extracts land and the DAG runs for their last register day."""
    root = tmp_path_factory.mktemp("daily")
    landing, warehouse = root / "landing", root / "warehouse"
    for days in RUNS:
        deliver(tiny_la, landing, days)
        result = run_cli(
            airflow_env,
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--date",
            str(tiny_la.days[days[-1]]),
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return warehouse


def test_the_daily_audit_checks_the_year_once_a_week_and_new_rows_between(
    published_run: Path, tiny_la: SyntheticLA
) -> None:
    log = (published_run / "airflow-run.log").read_text()
    scopes = re.findall(r"audit of upstream tables: (rows new since|whole tables)", log)
    weeks = [tiny_la.days[days[-1]].isocalendar()[:2] for days in RUNS]
    assert scopes[: len(RUNS)] == [
        "rows new since" if r > 0 and weeks[r] == weeks[r - 1] else "whole tables"
        for r in range(len(RUNS))
    ]
    assert "rows new since" in scopes  # the generated days include a week's second day


def _published(path: Path, relation: str) -> dict[tuple, dict]:
    with duckdb.connect() as con:
        if path.suffix == ".duckdb":
            con.execute(f"attach '{path}' as published (read_only)")
        cursor = con.execute(f"select * from {relation}")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {(r["urn"], r["upn"], r["academic_year"]): {c: r[c] for c in COLUMNS} for r in rows}


def test_published_pupil_attendance_matches_the_generators_truth(
    published_run: Path, tiny_la: SyntheticLA
) -> None:
    expected = expected_pupil_attendance(tiny_la, DAYS - 1)
    parquet = published_run / "published" / "parquet" / "current" / "pupil_attendance.parquet"
    from_parquet = _published(parquet, f"read_parquet('{parquet}')")
    database = published_run / "published" / "published.duckdb"
    from_duckdb = _published(database, "published.main.pupil_attendance")
    assert set(from_parquet) == set(expected)
    for key, row in expected.items():
        got = from_parquet[key]
        for column in COLUMNS:
            if isinstance(row[column], float):
                assert got[column] == pytest.approx(row[column], abs=1e-12), (key, column)
            else:
                assert got[column] == row[column], (key, column)
    assert from_duckdb == from_parquet


def test_rerunning_a_day_publishes_the_same_marts(
    published_run: Path, tiny_la: SyntheticLA, airflow_env: dict[str, str]
) -> None:
    parquet = published_run / "published" / "parquet" / "current" / "pupil_attendance.parquet"

    def content() -> str:
        with duckdb.connect() as con:
            rows = con.execute(
                f"select * exclude (as_of) from read_parquet('{parquet}') order by all"
            ).fetchall()
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    before = content()
    landing = published_run.parent / "landing"
    result = run_cli(
        airflow_env,
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(published_run),
        "--date",
        str(tiny_la.days[DAYS - 1]),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert content() == before


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_mart_failing_its_audit_is_not_published(
    published_run: Path, tiny_la: SyntheticLA, airflow_env: dict[str, str], tmp_path: Path
) -> None:
    import shutil

    warehouse = tmp_path / "warehouse"
    shutil.copytree(published_run, warehouse)
    before = _fingerprint(warehouse / "published")
    # An upstream bug lets a malformed UPN into the event store: dbt builds the mart happily,
    # and only the audit can stop it.
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        con.execute(
            """
            insert into events.pupil_events by name
            select 'bug-1' as event_id, 'admitted' as event_type, urn, 'NOT-A-UPN' as upn,
                valid_from, date_of_birth, sex, ncy, admission_date, leaving_date,
                sen_provision, sen_primary_need, fsm_eligible, looked_after, child_in_need,
                child_protection_plan, transaction_time, extracted_at, ingested_at, load_id,
                source_file, source_line
            from events.pupil_events limit 1
            """
        )
        con.execute(
            """
            insert into events.mark_events by name
            select 'bug-2' as event_id, event_type, urn, 'NOT-A-UPN' as upn, session_date,
                session, '/' as code, minutes_late, transaction_time, extracted_at,
                ingested_at, load_id, source_file, source_line
            from events.mark_events limit 1
            """
        )
    landing = published_run.parent / "landing"
    result = run_cli(
        airflow_env,
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--date",
        str(tiny_la.days[DAYS - 1]),
    )
    assert result.returncode != 0
    # The run fails with a message that names the failed expectation.
    assert "task audit" in result.stderr
    assert "expect_column_values_to_match_regex on upn" in result.stderr, result.stderr
    assert _fingerprint(warehouse / "published") == before


def _values_in_duckdb(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        return [
            str(value)
            for schema, table in tables
            for row in con.execute(f'select * from "{schema}"."{table}"').fetchall()
            for value in row
        ]


def test_no_pupil_name_is_written_anywhere(
    published_run: Path, tiny_la: SyntheticLA, airflow_env: dict[str, str]
) -> None:
    """Forenames and surnames are in the extracts; nothing the pipeline writes may hold them."""
    names = tiny_la.forbidden_strings()
    written: list[str] = []
    for path in published_run.rglob("*"):
        if not path.is_file() or path.name.endswith(".tmp"):
            continue
        if path.suffix == ".duckdb":
            written += _values_in_duckdb(path)
        elif path.suffix == ".parquet":
            with duckdb.connect() as con:
                rows = con.execute(f"select * from read_parquet('{path}')").fetchall()
            written += [str(v) for row in rows for v in row]
        else:
            written.append(path.read_bytes().decode("utf-8", errors="replace"))
    # Airflow's own task logs of the runs.
    for path in Path(airflow_env["AIRFLOW_HOME"]).rglob("*.log"):
        written.append(path.read_text(errors="replace"))
    assert len(written) > 1000
    leaked = {name for name in names for text in written if name in text}
    assert leaked == set()


def test_the_downstream_runs_write_the_html_reports_and_the_dfe_extract(
    tiny_la: SyntheticLA, published_run: Path
) -> None:
    """`make run` runs the serving DAG too: without ATTENDANCE_SERVING_DB_URL it writes the
    DfE-style extract and skips PostgreSQL; the report DAG writes the HTML reports."""
    last = tiny_la.days[DAYS - 1]
    extract = published_run / "extracts" / f"dfe_daily_attendance_{last}.csv"
    header = extract.read_text().splitlines()[0].split(",")
    assert {"attendance_date", "urn", "reason_i_authorised_illness"} <= set(header)
    pages = {p.name for p in (published_run / "reports" / "html").glob("*.html")}
    assert pages == {"la_881.html"} | {f"school_{s.urn}.html" for s in tiny_la.schools}
