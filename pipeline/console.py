"""The terminal side of `attendance run` and `attendance demo`: real DAG runs, told briefly.

Airflow's own output (task logs, dbt, DuckDB's exit messages) goes to a log file; the
terminal gets the run's progress, its outcome and where to look.
"""

import fcntl
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from pipeline.dag_runs import DAG_ID
from warehouse.locations import resolve_locations
from warehouse.permissions import make_folders


@dataclass(frozen=True)
class Terminal:
    """The run's own progress (out) and errors (err), kept apart from Airflow's log."""

    out: TextIO
    err: TextIO


def run_once(landing: str, warehouse: str, register_day: date | None) -> int:
    """`attendance run`: the daily DAG once on a landing folder, then the downstream DAGs;
    without a register day, for the latest day the landed extracts cover."""
    locations = resolve_locations(landing, warehouse)
    if not locations.landing.is_dir():
        print(f"error: landing folder {locations.landing} does not exist", file=sys.stderr)
        return 2
    if register_day is None:
        register_day, why = default_register_day(locations.landing)
        print(f"register day {register_day}: {why}", flush=True)
    with one_run_per_airflow_home() as home:
        if home is not None:
            print(
                f"error: another `attendance run` is using the Airflow home {home}; wait for "
                "it to finish, or give this one its own AIRFLOW_HOME",
                file=sys.stderr,
            )
            return 2
        return _run_once(locations, register_day)


def default_register_day(landing: Path) -> tuple[date, str]:
    """The register day of a run given none, and why: the latest day the landed extracts
    cover (a folder of last term's files is last term's, not a day on which every school
    is missing); today when a MIS feed will pull today's extracts, or none has landed."""
    from ingestion.http_pull.config import URL_ENV
    from ingestion.missing_extracts import latest_extract_day

    if os.environ.get(URL_ENV):
        return date.today(), f"today ({URL_ENV} is set: the feed brings today's extracts)"
    latest = latest_extract_day(landing)
    if latest is None:
        return date.today(), f"today (no extract has landed in {landing})"
    return latest, "the latest day the extracts cover"


@contextmanager
def one_run_per_airflow_home() -> Iterator[Path | None]:
    """Hold the Airflow home for one run: None, or the home when another run holds it.

    Two `dag.test()` runs of one DAG in one Airflow metadata database undo each other's
    task instances, and the loser used to die with nothing but make's "Error 1"."""
    home = _airflow_home()
    make_folders(home)
    with open(home / ".attendance-run.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield home
            return
        yield None


def _run_once(locations, register_day: date) -> int:  # noqa: ANN001 - a Locations
    from pipeline.dag_runs import published
    from pipeline.daily import superseded_reason
    from pipeline.run_info import RunInfo
    from publication.record import read_record

    make_folders(locations.warehouse)
    print(f"Running attendance_daily for {register_day} on {locations.landing}", flush=True)
    dags, terminal = load_dags_quietly(locations.warehouse / "airflow-run.log")
    run = run_day_or_exit(
        dags[DAG_ID], register_day, locations.landing, locations.warehouse, terminal
    )
    if not published(run):
        reason = superseded_reason(read_record(locations.published), RunInfo.for_day(register_day))
        print(
            f"Nothing new was published for {register_day}: {reason or 'see the Airflow log'}.",
            file=terminal.out,
        )
        print_summary(locations.warehouse, terminal.out)
        return finish(terminal)
    downstream_or_exit(dags, locations.warehouse, terminal)
    print_summary(locations.warehouse, terminal.out)
    print_outputs(locations.warehouse, register_day, run.run_id, terminal.out)
    return finish(terminal)


def finish(terminal: Terminal) -> int:
    terminal.out.flush()
    # DuckDB's bindings complain on stderr at interpreter exit; that goes to the log.
    return 0


def load_dags_quietly(log_file: Path) -> tuple[dict, Terminal]:
    """The DAGs by id, and the terminal: from here on Airflow's own output goes to `log_file`."""
    from pipeline.dag_runs import divert_output, load_dags

    terminal = Terminal(*divert_output(log_file))
    print(f"Airflow's log of the runs: {log_file}", file=terminal.out)
    try:
        return load_dags(), terminal
    except Exception as failure:  # noqa: BLE001 - e.g. an Airflow database never migrated
        exit_with(_unexpected(failure, log_file.parent), terminal)


def run_day_or_exit(dag, day: date, landing: Path, warehouse: Path, terminal: Terminal):
    from pipeline.dag_runs import run_day

    try:
        return run_day(dag, day, landing, warehouse)
    except Exception as failure:  # noqa: BLE001 - anything else must still be said
        exit_with(_failure_message(failure, (DAG_ID,), landing, warehouse), terminal)


def downstream_or_exit(dags: dict, warehouse: Path, terminal: Terminal) -> None:
    from pipeline.dag_runs import DOWNSTREAM_DAG_IDS, run_downstream

    try:
        run_downstream(dags, warehouse)
    except Exception as failure:  # noqa: BLE001 - anything else must still be said
        exit_with(_failure_message(failure, DOWNSTREAM_DAG_IDS, None, warehouse), terminal)


def _failure_message(
    failure: Exception, dag_ids: tuple[str, ...], landing: Path | None, warehouse: Path
) -> str:
    """What the terminal says of a failed run: the failure, led by the disk that was full
    and the step that found it so, when a disk is the cause (its log and alerts are most
    likely on that disk, and cut short)."""
    from pipeline.dag_runs import DagRunFailed, failed_steps
    from warehouse.disk_space import full_disks, says_no_space

    said = str(failure) if isinstance(failure, DagRunFailed) else _unexpected(failure, warehouse)
    folders = [("warehouse", warehouse), ("Airflow home", _airflow_home())]
    if landing is not None:
        folders.append(("landing folder", landing))
    folders.append(("temporary folder", Path(tempfile.gettempdir())))
    disks = full_disks(folders, certain=says_no_space(failure))
    if not disks:
        return said
    try:
        steps = ", ".join(failed_steps(dag_ids)) or "unknown"
    except Exception:  # noqa: BLE001 - Airflow's database may be on the full disk itself
        steps = "unknown"
    return (
        f"the run stopped for want of disk space (failed step: {steps}): "
        + "; ".join(disk.describe() for disk in disks)
        + ". Free space there, or move that folder to a larger disk, and run again; the last"
        " good publication is unchanged.\n" + said
    )


def _airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


def _unexpected(failure: Exception, warehouse: Path) -> str:
    first_line = (str(failure).splitlines() or [""])[0][:200]
    return (
        f"the run stopped on an error of Airflow's or the pipeline's "
        f"({type(failure).__name__}: {first_line}); the whole of it is in "
        f"{warehouse / 'airflow-run.log'}"
    )


def exit_with(failure: Exception | str, terminal: Terminal) -> None:
    print(f"error: {failure}", file=terminal.err)
    terminal.err.flush()
    terminal.out.flush()
    # Skip interpreter teardown: DuckDB's bindings print noise there; the log has the rest.
    os._exit(1)


def print_outputs(warehouse: Path, day: date, run_id: str | None, terminal: TextIO) -> None:
    """Where the day's exports and report are, and the run's alerts about schools."""
    from serving.postgres import DSN_ENV
    from warehouse.alerts import TASK_FAILED, alerts_for_run

    print(f"Exports:     {warehouse / 'exports' / day.isoformat()}", file=terminal)
    print(f"Run report:  {warehouse / 'reports' / f'{day.isoformat()}.md'}", file=terminal)
    print(f"HTML reports: {warehouse / 'reports' / 'html'}", file=terminal)
    print(f"Targeting packs (restricted): {warehouse / 'reports' / 'targeting'}", file=terminal)
    extract = warehouse / "extracts" / f"dfe_daily_attendance_{day.isoformat()}.csv"
    print(f"DfE extract: {extract}", file=terminal)
    if not os.environ.get(DSN_ENV):
        print(f"PostgreSQL:  not loaded ({DSN_ENV} is not set; docs/bi.md)", file=terminal)
    alerts = alerts_for_run(warehouse, run_id) if run_id else []
    for alert in (a for a in alerts if a.kind != TASK_FAILED):
        print(f"Alert ({alert.kind}, school {alert.school}): {alert.reason}", file=terminal)


def print_summary(warehouse: str | Path, terminal: TextIO = sys.stdout) -> None:
    from serving.summary import summarise

    summary = summarise(resolve_locations(None, warehouse).published)
    print(file=terminal)
    print(summary.render(), file=terminal)
