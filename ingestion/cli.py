"""Command line: `python -m ingestion.cli demo|run|generate|summary` (see docs/usage.md)."""

import argparse
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ingestion.dag_runs import DAG_ID
from ingestion.locations import resolve_locations
from ingestion.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from ingestion.feed_server import FeedServer


@dataclass(frozen=True)
class Terminal:
    """The run's own progress (out) and errors (err), kept apart from Airflow's log."""

    out: TextIO
    err: TextIO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attendance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate a synthetic LA and run the DAG day by day")
    demo.add_argument("--out", type=Path, default=PROJECT_ROOT / "demo")
    _generator_options(demo)

    run = commands.add_parser("run", help="run the daily DAG once on a landing folder")
    run.add_argument("--landing", required=True)
    run.add_argument("--warehouse", required=True)
    run.add_argument(
        "--date",
        type=date.fromisoformat,
        default=date.today(),
        help="register day (the run's logical date); default today",
    )

    generate = commands.add_parser("generate", help="write a synthetic LA's extracts")
    generate.add_argument("--landing", type=Path, required=True)
    _generator_options(generate)

    summary = commands.add_parser("summary", help="print the summary of a publication")
    summary.add_argument("--warehouse", required=True)

    args = parser.parse_args(argv)
    handlers = {"demo": _demo, "run": _run, "generate": _generate, "summary": _summary}
    return handlers[args.command](args)


def _generator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--pupils", type=int, default=3000)
    parser.add_argument("--days", type=int, default=20, help="school days of extracts")
    parser.add_argument("--window", type=int, default=10, help="school days in each extract")
    parser.add_argument("--seed", type=int, default=2025)


def _config(args: argparse.Namespace):
    from ingestion.synthetic import GeneratorConfig

    return GeneratorConfig(
        schools=args.schools,
        pupils=args.pupils,
        school_days=args.days,
        window_days=args.window,
        seed=args.seed,
    )


def _demo(args: argparse.Namespace) -> int:
    from ingestion.synthetic import build_la, write_extracts_for_day

    out: Path = args.out.resolve()
    locations = resolve_locations(out / "landing", out / "warehouse")
    for folder in (locations.landing, locations.warehouse):
        shutil.rmtree(folder, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    la = build_la(_config(args))
    print(
        f"Synthetic LA: {len(la.schools)} schools, {len(la.enrolments)} enrolments, "
        f"{len(la.days)} school days from {la.days[0]} (extracts of {args.window} days)",
        flush=True,
    )
    dags, terminal = _load_dags_quietly(out / "airflow-demo.log")
    dag = dags[DAG_ID]
    # A quarter of the schools deliver through their MIS's HTTP feed, the rest drop files.
    feed_urns = {school.urn for school in la.schools[3::4]}
    file_urns = {school.urn for school in la.schools} - feed_urns
    with _demo_feed(out / "feed") as feed:
        print(f"MIS feed for {len(feed_urns)} schools at {feed.url}", file=terminal.out)
        started = time.monotonic()
        for index, day in enumerate(la.days):
            # The day's extracts arrive, then that day's run pulls and ingests them.
            write_extracts_for_day(la, index, locations.landing, urns=file_urns)
            write_extracts_for_day(la, index, feed.root, urns=feed_urns)
            _run_or_exit(dag, day, locations.landing, locations.warehouse, terminal)
            print(
                f"[{index + 1:>2}/{len(la.days)}] {day}: DAG run succeeded, marts published "
                f"({time.monotonic() - started:.0f} s so far)",
                file=terminal.out,
            )
    # The exports and the report of the last day's publication (a scheduler would run them
    # after every publication: `make airflow`).
    _downstream_or_exit(dags, locations.warehouse, terminal)
    _print_summary(locations.warehouse, terminal.out)
    _print_outputs(locations.warehouse, la.days[-1], None, terminal.out)
    return _finish(terminal)


@contextmanager
def _demo_feed(root: Path) -> Iterator["FeedServer"]:
    """The reference MIS feed on 127.0.0.1, with a one-off token, for the DAG's pull task."""
    from ingestion.feed_server import FeedServer
    from ingestion.http_pull import SOURCE_ENV, TOKEN_ENV, URL_ENV

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    token = secrets.token_urlsafe(24)
    with FeedServer(root, token) as feed:
        os.environ.update({URL_ENV: feed.url, TOKEN_ENV: token, SOURCE_ENV: "demo-mis"})
        try:
            yield feed
        finally:
            for name in (URL_ENV, TOKEN_ENV, SOURCE_ENV):
                os.environ.pop(name, None)


def _run(args: argparse.Namespace) -> int:
    locations = resolve_locations(args.landing, args.warehouse)
    if not locations.landing.is_dir():
        print(f"error: landing folder {locations.landing} does not exist", file=sys.stderr)
        return 2
    locations.warehouse.mkdir(parents=True, exist_ok=True)
    print(f"Running attendance_daily for {args.date} on {locations.landing}", flush=True)
    dags, terminal = _load_dags_quietly(locations.warehouse / "airflow-run.log")
    run = _run_or_exit(dags[DAG_ID], args.date, locations.landing, locations.warehouse, terminal)
    from ingestion.dag_runs import published
    from ingestion.pipeline import superseded_reason

    if not published(run):
        reason = superseded_reason(locations, args.date) or "see the Airflow log"
        print(f"Nothing new was published for {args.date}: {reason}.", file=terminal.out)
        _print_summary(locations.warehouse, terminal.out)
        return _finish(terminal)
    _downstream_or_exit(dags, locations.warehouse, terminal)
    _print_summary(locations.warehouse, terminal.out)
    _print_outputs(locations.warehouse, args.date, run.run_id, terminal.out)
    return _finish(terminal)


def _generate(args: argparse.Namespace) -> int:
    from ingestion.synthetic import build_la, write_extracts_for_day

    la = build_la(_config(args))
    for index in range(len(la.days)):
        write_extracts_for_day(la, index, args.landing)
    print(f"Wrote {len(la.days)} days of extracts for {len(la.schools)} schools to {args.landing}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    _print_summary(args.warehouse)
    return 0


def _finish(terminal: Terminal) -> int:
    terminal.out.flush()
    # DuckDB's bindings complain on stderr at interpreter exit; that goes to the log.
    return 0


def _load_dags_quietly(log_file: Path) -> tuple[dict, Terminal]:
    """The DAGs by id, and the terminal: from here on Airflow's own output goes to `log_file`."""
    from ingestion.dag_runs import divert_output, load_dags

    terminal = Terminal(*divert_output(log_file))
    print(f"Airflow's log of the runs: {log_file}", file=terminal.out)
    return load_dags(), terminal


def _run_or_exit(dag, day: date, landing: Path, warehouse: Path, terminal: Terminal):
    from ingestion.dag_runs import DagRunFailed, run_day

    try:
        return run_day(dag, day, landing, warehouse)
    except DagRunFailed as failure:
        _exit_with(failure, terminal)


def _downstream_or_exit(dags: dict, warehouse: Path, terminal: Terminal) -> None:
    from ingestion.dag_runs import DagRunFailed, run_downstream

    try:
        run_downstream(dags, warehouse)
    except DagRunFailed as failure:
        _exit_with(failure, terminal)


def _exit_with(failure: Exception, terminal: Terminal) -> None:
    print(f"error: {failure}", file=terminal.err)
    terminal.err.flush()
    terminal.out.flush()
    # Skip interpreter teardown: DuckDB's bindings print noise there; the log has the rest.
    os._exit(1)


def _print_outputs(warehouse: Path, day: date, run_id: str | None, terminal: TextIO) -> None:
    """Where the day's exports and report are, and the run's alerts about schools."""
    from ingestion.alerts import TASK_FAILED, alerts_for_run

    print(f"Exports:     {warehouse / 'exports' / day.isoformat()}", file=terminal)
    print(f"Run report:  {warehouse / 'reports' / f'{day.isoformat()}.md'}", file=terminal)
    print(f"HTML reports: {warehouse / 'reports' / 'html'}", file=terminal)
    extract = warehouse / "extracts" / f"dfe_daily_attendance_{day.isoformat()}.csv"
    print(f"DfE extract: {extract}", file=terminal)
    if not os.environ.get("ATTENDANCE_SERVING_DB_URL"):
        print(
            "PostgreSQL:  not loaded (ATTENDANCE_SERVING_DB_URL is not set; docs/bi.md)",
            file=terminal,
        )
    alerts = alerts_for_run(warehouse, run_id) if run_id else []
    for alert in (a for a in alerts if a.kind != TASK_FAILED):
        print(f"Alert ({alert.kind}, school {alert.school}): {alert.reason}", file=terminal)


def _print_summary(warehouse: str | Path, terminal: TextIO = sys.stdout) -> None:
    from ingestion.summary import summarise

    print(file=terminal)
    print(summarise(resolve_locations(None, warehouse)).render(), file=terminal)


if __name__ == "__main__":
    sys.exit(main())
