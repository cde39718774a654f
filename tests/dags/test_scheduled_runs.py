"""The DAGs under a real Airflow scheduler: a backfill, the publication asset running the
downstream DAGs, a missing school extract, re-runs of the latest day (same marts) and of a
past day (the newer publication stays), and a failed audit that publishes and triggers
nothing.

One module-scoped scenario does the Airflow work (about four minutes on two cores) and the
tests check what it left. `airflow standalone` (scheduler, dag-processor, triggerer and API
server, LocalExecutor, SQLite) runs on a free port of 127.0.0.1 in its own Airflow home,
set up as `make airflow` sets one up (`airflow db migrate`, then the warehouse pool), and
is stopped at the end. Every wait is bounded.

The scheduler's own environment points ATTENDANCE_LANDING and ATTENDANCE_WAREHOUSE at
folders that do not exist: the runs under test get theirs from the backfill's conf, and the
downstream DAGs from the asset event, so nothing here works by falling back on the
environment. (The DAG also makes its latest scheduled run as soon as it is parsed; that run
fails at once on the missing landing folder, and is ignored.)
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from synthetic import SyntheticLA, write_extracts_for_day
from tests.support.extracts import deliver
from tests.support.truth.registers import expected_as_of, expected_pupil_attendance
from warehouse.alerts import MISSING_EXTRACT, TASK_FAILED, read_alerts
from warehouse.project import PROJECT_ROOT
from warehouse.register_days import logical_date_for

DAILY, EXPORTS, REPORT = "attendance_daily", "attendance_exports", "attendance_report"
SERVING = "attendance_serving"
DOWNSTREAM = (EXPORTS, REPORT, SERVING)
AIRFLOW = Path(sys.executable).with_name("airflow")
# Generous: on a loaded 2-core machine the API server alone has taken over three minutes.
STARTUP_SECONDS = 600
# Three backfilled days, run one after another (about 45 s each on two cores).
BACKFILL_SECONDS = 480
RUN_SECONDS = 300


@dataclass
class Stack:
    home: Path
    env: dict[str, str]
    log: Path

    def airflow(
        self, *args: str, done: Callable[[], bool] | None = None, attempts: int = 3
    ) -> None:
        """Run an airflow command; one that SQLite refused ("database is locked") while the
        scheduler wrote is tried again, unless `done` says it took effect all the same."""
        for _ in range(attempts):
            finished = subprocess.run(
                [str(AIRFLOW), *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            output = finished.stdout + finished.stderr
            if finished.returncode == 0 or (done is not None and done()):
                return
            if "database is locked" not in output:
                break
            time.sleep(5)
        raise AssertionError(f"airflow {' '.join(args)}:\n{output[-4000:]}")

    def query(self, sql: str, *params) -> list[tuple]:
        """Read Airflow's metadata database (SQLite) directly; retried while it is locked."""
        for _ in range(20):
            try:
                with sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True) as con:
                    con.execute("pragma busy_timeout = 5000")
                    return con.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "no such table" not in str(error):
                    raise
                time.sleep(0.5)
        raise AssertionError(f"the metadata database stayed locked: {sql}")

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(2)
        tail = self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""
        runs = self.query("select dag_id, run_id, state from dag_run order by id")
        tasks = self.query(
            "select dag_id, run_id, task_id, state from task_instance where state is not null "
            "and state not in ('success') order by start_date"
        )
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what}\nruns: {runs}\n"
            f"unfinished or failed tasks: {tasks}\nairflow standalone log:\n{tail}"
        )

    def runs(self, dag_id: str) -> list[tuple[str, str, str]]:
        """(run_id, run_type, state) of the DAG's runs, oldest first."""
        return self.query(
            "select run_id, run_type, state from dag_run where dag_id = ? order by id", dag_id
        )

    def finished(self, run_id: str) -> bool:
        rows = self.query("select state from dag_run where run_id = ?", run_id)
        return bool(rows) and rows[0][0] in ("success", "failed")

    def publication_events(self) -> list[dict]:
        """The extras of the publication asset's events, oldest first."""
        return [
            json.loads(extra)
            for (extra,) in self.query(
                "select e.extra from asset_event e join asset a on a.id = e.asset_id "
                "where a.name = 'attendance_publication' order by e.id"
            )
        ]

    def downstream_settled(self) -> bool:
        """Each publication event has been consumed by one finished run of each downstream DAG."""
        events = len(self.publication_events())
        for dag_id in DOWNSTREAM:
            consumed = self.query(
                "select count(*) from dagrun_asset_event c join dag_run r on r.id = c.dag_run_id "
                "where r.dag_id = ? and r.state in ('success', 'failed')",
                dag_id,
            )[0][0]
            if consumed < events:
                return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("scheduler")
    home, port = root / "airflow-home", _free_port()
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        # SQLite with four Airflow components writing: wait for the lock (60 s) rather than
        # fail at once with "database is locked".
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        # New DAGs start unpaused here, so that the test needs no `dags unpause`.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        # The scheduler's and the triggerer's log servers (they listen on every interface).
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # `airflow standalone` starts its components as `airflow ...` from the PATH.
        "PATH": f"{AIRFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ATTENDANCE_LANDING": str(root / "no-such-landing"),
        "ATTENDANCE_WAREHOUSE": str(root / "environment-warehouse"),
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
    }
    stack = Stack(home, env, root / "standalone.log")
    stack.airflow("db", "migrate")
    stack.airflow(
        "pools", "set", "attendance_warehouse", "1", "one task at a time opens the warehouse"
    )
    with stack.log.open("w") as log:
        process = subprocess.Popen(
            [str(AIRFLOW), "standalone"],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        stack.wait_for(
            "the API server and the parsed DAGs",
            lambda: (
                process.poll() is None
                and _port_open(port)
                and len(
                    stack.query(
                        "select dag_id from serialized_dag where dag_id in (?, ?, ?, ?)",
                        DAILY,
                        *DOWNSTREAM,
                    )
                )
                == 4
            ),
            STARTUP_SECONDS,
        )
        # The DAG's latest scheduled run starts as soon as it is parsed, and fails on the
        # missing landing folder; let it finish, to keep the scheduler's writes apart from
        # the test's.
        stack.wait_for(
            "the latest scheduled run",
            lambda: any(
                run_type == "scheduled" and state in ("success", "failed")
                for _, run_type, state in stack.runs(DAILY)
            ),
            STARTUP_SECONDS,
        )
        yield stack
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Stop `airflow standalone` and every process it started (its own process group):
    SIGTERM lets the scheduler and the others shut down; SIGKILL what is left after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@dataclass
class Scenario:
    la: SyntheticLA
    landing: Path
    warehouse: Path
    missing_urn: str
    backfill_runs: list[str]
    # The publication events after the backfill, and after the re-run of day 1.
    events_after_backfill: list[dict]
    events_after_rerun: list[dict]
    published_after_rerun: dict[tuple, dict]
    failed_run_id: str
    failed_warehouse: Path
    published_before_failed_run: dict[str, str]
    downstream_runs_before_failed_run: dict[str, int]
    published_after_backfill: dict[tuple, dict] = field(default_factory=dict)


def _backfill(stack: Stack, first: str, last: str, conf: dict) -> None:
    """`airflow backfill create` for the register days first..last.

    On SQLite the command can fail with "database is locked" after it has committed the
    backfill but not all its runs. Then, once the scheduler has finished (or, without runs,
    dropped) that backfill, the same command creates the missing runs and skips the others.
    """
    command = [
        "backfill",
        "create",
        "--dag-id",
        DAILY,
        "--from-date",
        first,
        # The date is a timestamp: midnight would leave out the last day's 18:00 run.
        "--to-date",
        f"{last}T23:59:59",
        "--max-active-runs",
        "1",
        "--dag-run-conf",
        json.dumps(conf),
    ]
    for _ in range(2):
        try:
            stack.airflow(*command, attempts=1)
            return
        except AssertionError as failure:
            if "database is locked" not in str(failure):
                raise
            stack.wait_for("the half-made backfill", lambda: _backfill_complete(stack), 400)
    stack.airflow(*command, attempts=1)


def _backfill_complete(stack: Stack) -> bool:
    return not stack.query("select id from backfill where completed_at is null")


def _pupil_attendance(warehouse: Path) -> dict[tuple, dict]:
    with duckdb.connect(str(warehouse / "published" / "published.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select urn, upn, academic_year, possible_sessions, present_sessions "
            "from pupil_attendance"
        ).fetchall()
    return {r[:3]: {"possible_sessions": r[3], "present_sessions": r[4]} for r in rows}


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def scenario(stack: Stack, tiny_la: SyntheticLA, tmp_path_factory) -> Scenario:
    root = tmp_path_factory.mktemp("scheduled")
    landing, warehouse = root / "landing", root / "warehouse"
    days = [day.isoformat() for day in tiny_la.days]
    missing = tiny_la.schools[1].urn
    # Days 0 and 1 from every school; day 2 from all but one.
    deliver(tiny_la, landing, range(2))
    write_extracts_for_day(
        tiny_la, 2, landing, urns={s.urn for s in tiny_la.schools if s.urn != missing}
    )
    conf = {"landing": str(landing), "warehouse": str(warehouse)}

    _backfill(stack, days[0], days[2], conf)
    backfill_runs = [
        f"backfill__{logical_date_for(d).astimezone(UTC).isoformat()}" for d in tiny_la.days[:3]
    ]
    stack.wait_for(
        "the backfill's three runs",
        lambda: all(stack.finished(run_id) for run_id in backfill_runs),
        BACKFILL_SECONDS,
    )
    stack.wait_for("the downstream runs", stack.downstream_settled, 120)
    events_after_backfill = stack.publication_events()
    published_after_backfill = _pupil_attendance(warehouse)

    # Re-run days 1 and 2 by clearing their runs, as the UI's "Clear" does. (`backfill
    # create --reprocess-behavior completed` would do the same, but on SQLite it fails with
    # "database is locked" half-way; see docs/orchestration.md.) Day 2 is published again;
    # day 1 is not, since the publication already holds day 2.
    stack.airflow(
        "tasks",
        "clear",
        DAILY,
        "--start-date",
        days[1],
        "--end-date",
        f"{days[2]}T23:59:59",
        "--yes",
    )
    stack.wait_for(
        "the re-runs of days 1 and 2",
        lambda: (
            all(stack.finished(run_id) for run_id in backfill_runs[1:])
            and len(stack.publication_events()) > len(events_after_backfill)
        ),
        RUN_SECONDS,
    )
    stack.wait_for("the downstream runs", stack.downstream_settled, 120)
    events_after_rerun = stack.publication_events()

    # A failed audit: a copy of the warehouse gets a malformed UPN into its event store (dbt
    # builds it happily; only the audit can stop it), and day 3 runs on the copy.
    failed_warehouse = root / "failed-warehouse"
    shutil.copytree(warehouse, failed_warehouse)
    _add_a_malformed_upn(failed_warehouse / "warehouse.duckdb")
    published_before = _fingerprint(failed_warehouse / "published")
    downstream_before = {dag_id: len(stack.runs(dag_id)) for dag_id in DOWNSTREAM}
    failed_run_id = "audit_failure_test"
    stack.airflow(
        "dags",
        "trigger",
        DAILY,
        "--logical-date",
        logical_date_for(tiny_la.days[3]).isoformat(),
        "--run-id",
        failed_run_id,
        "--conf",
        json.dumps({"landing": str(landing), "warehouse": str(failed_warehouse)}),
        done=lambda: bool(stack.query("select 1 from dag_run where run_id = ?", failed_run_id)),
    )
    stack.wait_for("the failing run", lambda: stack.finished(failed_run_id), RUN_SECONDS)
    # Give the scheduler time to create any run the failed run might (wrongly) trigger.
    time.sleep(15)
    return Scenario(
        la=tiny_la,
        landing=landing,
        warehouse=warehouse,
        missing_urn=missing,
        backfill_runs=backfill_runs,
        events_after_backfill=events_after_backfill,
        events_after_rerun=events_after_rerun,
        published_after_rerun=_pupil_attendance(warehouse),
        failed_run_id=failed_run_id,
        failed_warehouse=failed_warehouse,
        published_before_failed_run=published_before,
        downstream_runs_before_failed_run=downstream_before,
        published_after_backfill=published_after_backfill,
    )


def _add_a_malformed_upn(database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            insert into events.pupil_events by name
            select 'bug-1' as event_id, event_type, urn, 'NOT-A-UPN' as upn, valid_from,
                date_of_birth, sex, ncy, admission_date, leaving_date, sen_provision,
                sen_primary_need, fsm_eligible, looked_after, child_in_need,
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


def _task_states(stack: Stack, run_id: str) -> dict[str, str]:
    return dict(
        stack.query(
            "select task_id, state from task_instance where dag_id = ? and run_id = ?",
            DAILY,
            run_id,
        )
    )


def test_a_backfill_runs_each_day_once_in_order_and_publishes_it(
    stack: Stack, scenario: Scenario
) -> None:
    states = {run_id: state for run_id, _, state in stack.runs(DAILY)}
    assert all(states[run_id] == "success" for run_id in scenario.backfill_runs), states
    days = [d.isoformat() for d in scenario.la.days[:3]]
    events = scenario.events_after_backfill
    assert [e["register_day"] for e in events] == days
    assert [e["run_id"] for e in events] == scenario.backfill_runs
    # Days 0 and 1 were built as of the end of their day (later extracts were already
    # ingested); day 2, the latest, from every event.
    assert [e["cutoff"] is not None for e in events] == [True, True, False]
    assert all(e["warehouse"] == str(scenario.warehouse) for e in events)
    # Each day was published as it stood at the end of that day.
    assert [datetime.fromisoformat(e["as_of"]) for e in events] == [
        expected_as_of(scenario.la, index) for index in range(3)
    ]
    # Every warehouse task ran in the one-slot pool.
    pools = dict(
        stack.query(
            "select task_id, pool from task_instance where run_id = ? and dag_id = ?",
            scenario.backfill_runs[0],
            DAILY,
        )
    )
    assert {t for t, pool in pools.items() if pool == "attendance_warehouse"} == {
        "ingest",
        "check_extracts",
        "build",
        "audit",
        "publish",
    }


def test_the_publication_asset_runs_the_exports_the_report_and_the_serving(
    stack: Stack, scenario: Scenario
) -> None:
    for dag_id in DOWNSTREAM:
        runs = stack.runs(dag_id)
        assert runs and all(run_type == "asset_triggered" for _, run_type, _ in runs)
        assert all(state == "success" for _, _, state in runs), runs
    # The latest publication (the re-run of day 2) has its exports.
    day2 = scenario.la.days[2].isoformat()
    exports = scenario.warehouse / "exports"
    manifest = json.loads((exports / day2 / "manifest.json").read_text())
    assert manifest["publication"]["version"] == scenario.events_after_rerun[-1]["version"]
    # ... and its DfE-style extract, from the serving DAG.
    assert (scenario.warehouse / "extracts" / f"dfe_daily_attendance_{day2}.csv").is_file()
    published = scenario.warehouse / "published" / "published.duckdb"
    with duckdb.connect() as con:
        con.execute(f"attach '{published}' as published (read_only)")
        action_list = con.execute(
            f"select * from read_csv('{exports / day2 / 'action_list.csv'}', header = true, "
            "all_varchar = true) order by all"
        ).fetchall()
        expected = con.execute(
            "select * from published.main.pupils_for_support order by urn, upn, academic_year"
        ).fetchall()
    assert len(action_list) == len(expected) == manifest["files"]["action_list.csv"]["rows"]
    assert len(expected) > 0
    # Each day's school figures are that day's rows only.
    daily = (exports / day2 / "school_daily_attendance.csv").read_text().splitlines()
    assert len(daily) > 1 and all(f",{day2}," in line for line in daily[1:])
    report = (scenario.warehouse / "reports" / f"{day2}.md").read_text()
    assert f"register day {day2}" in report
    assert scenario.missing_urn in report
    # The downstream DAGs took the warehouse from the asset event, not from the environment.
    assert not Path(stack.env["ATTENDANCE_WAREHOUSE"], "exports").exists()


def test_a_missing_school_extract_is_reported_and_the_rest_is_published(
    stack: Stack, scenario: Scenario
) -> None:
    day2_run = scenario.backfill_runs[2]
    alerts = [a for a in read_alerts(scenario.warehouse) if a.kind == MISSING_EXTRACT]
    # Once by the backfill's run and once by its re-run.
    assert [(a.run_id, a.task_id, a.school) for a in alerts] == 2 * [
        (day2_run, "check_extracts", scenario.missing_urn)
    ]
    assert alerts[0].register_day == scenario.la.days[2].isoformat()
    assert "no extract taken on" in alerts[0].reason
    # The run's XCom and the publication event say so too.
    (xcom,) = stack.query(
        "select value from xcom where dag_id = ? and run_id = ? and task_id = 'check_extracts' "
        "and key = 'return_value'",
        DAILY,
        day2_run,
    )
    assert json.loads(xcom[0])["missing_schools"] == [scenario.missing_urn]
    assert scenario.events_after_backfill[2]["missing_schools"] == [scenario.missing_urn]
    # The other schools' day 2 was published; the missing school's figures stop at day 1.
    missing = scenario.missing_urn
    with_day2 = expected_pupil_attendance(scenario.la, 2)
    without_day2 = expected_pupil_attendance(scenario.la, 1)
    expected = {k: v for k, v in with_day2.items() if k[0] != missing}
    expected |= {k: v for k, v in without_day2.items() if k[0] == missing}
    got = scenario.published_after_backfill
    assert set(got) == set(expected)
    for key, row in expected.items():
        assert got[key] == {c: row[c] for c in ("possible_sessions", "present_sessions")}, key


def test_rerunning_the_latest_day_publishes_the_same_marts(
    stack: Stack, scenario: Scenario
) -> None:
    day2_run = scenario.backfill_runs[2]
    first = next(e for e in scenario.events_after_backfill if e["run_id"] == day2_run)
    again = [e for e in scenario.events_after_rerun if e["run_id"] == day2_run]
    assert len(again) == 2, "day 2 was published by the backfill and again by the re-run"
    assert again[-1]["fingerprints"] == first["fingerprints"]
    assert again[-1]["as_of"] == first["as_of"]
    assert again[-1]["version"] != first["version"]
    assert scenario.published_after_rerun == scenario.published_after_backfill


def test_rerunning_a_past_day_leaves_the_newer_publication_in_place(
    stack: Stack, scenario: Scenario
) -> None:
    day1_run = scenario.backfill_runs[1]
    assert {run_id: state for run_id, _, state in stack.runs(DAILY)}[day1_run] == "success"
    states = _task_states(stack, day1_run)
    assert {t: states[t] for t in ("check_extracts", "build", "audit", "publish")} == {
        "check_extracts": "success",
        "build": "skipped",
        "audit": "skipped",
        "publish": "skipped",
    }
    assert [e["run_id"] for e in scenario.events_after_rerun].count(day1_run) == 1
    assert scenario.published_after_rerun == scenario.published_after_backfill


def test_a_failed_audit_publishes_nothing_and_triggers_nothing(
    stack: Stack, scenario: Scenario
) -> None:
    states = _task_states(stack, scenario.failed_run_id)
    assert states["audit"] == "failed"
    assert states["publish"] == "upstream_failed"
    assert stack.query(
        "select count(*) from asset_event where source_run_id = ?", scenario.failed_run_id
    ) == [(0,)]
    # No downstream run consumed anything from it, and no more of them ran than the
    # successful publications account for.
    for dag_id in DOWNSTREAM:
        assert len(stack.runs(dag_id)) == len(scenario.events_after_rerun)
        assert len(stack.runs(dag_id)) == scenario.downstream_runs_before_failed_run[dag_id]
    assert _fingerprint(scenario.failed_warehouse / "published") == (
        scenario.published_before_failed_run
    )
    day3 = scenario.la.days[3].isoformat()
    assert not (scenario.failed_warehouse / "exports" / day3).exists()
    assert not (scenario.failed_warehouse / "reports" / f"{day3}.md").exists()
    assert not (
        scenario.failed_warehouse / "extracts" / f"dfe_daily_attendance_{day3}.csv"
    ).exists()
    failures = [
        a
        for a in read_alerts(scenario.failed_warehouse)
        if a.kind == TASK_FAILED and a.run_id == scenario.failed_run_id
    ]
    assert [a.task_id for a in failures] == ["audit"]
    assert "expect_column_values_to_match_regex on upn" in failures[0].reason
