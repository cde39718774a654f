"""The `attendance` command: argument parsing only; each command is a function elsewhere."""

import argparse
import sys
from datetime import date
from pathlib import Path

from expectations.scope import AUDIT_SCOPE_VARIABLE
from ingestion.http_pull.config import TOKEN_ENV, URL_ENV
from ingestion.limits import FIRST_SESSION_DATE_ENV
from serving.access import ROLE_PREFIX_ENV
from serving.postgres import DSN_ENV
from serving.pseudonyms import KEY_ENV
from warehouse.connect import MEMORY_LIMIT_ENV
from warehouse.locations import LANDING_ENV, WAREHOUSE_ENV
from warehouse.permissions import UMASK_ENV, BadUmask, apply_umask
from warehouse.project import PROJECT_ROOT

DESCRIPTION = """\
Attendance pipeline for local authorities: run the daily DAG on a folder of register
extracts, or try it on a synthetic authority. docs/usage.md has the details."""
SETTINGS = (
    (f"{URL_ENV}, {TOKEN_ENV}", "pull extracts from a school MIS feed first"),
    ("ATTENDANCE_FEED_*_DEADLINE, *_MAX_*_BYTES", "the pull's time and size limits"),
    ("ATTENDANCE_MAX_{FILE,LINE,FIELD}_BYTES", "a landed file's limits (docs/feed.md)"),
    (FIRST_SESSION_DATE_ENV, "the registers' first day (default 2006-09-01)"),
    (DSN_ENV, "load the published marts into PostgreSQL"),
    (KEY_ENV, "the secret key of the pupils' pseudonyms (with the above)"),
    (ROLE_PREFIX_ENV, "its reader roles' prefix (default: the database's name)"),
    (MEMORY_LIMIT_ENV, "each DuckDB connection's memory limit (default 6GB)"),
    (f"{AUDIT_SCOPE_VARIABLE}=full", "every audit checks whole tables (after a repair)"),
    (f"{LANDING_ENV}, {WAREHOUSE_ENV}", "the folders of the runs Airflow schedules"),
    (UMASK_ENV, "who may open what it writes (default 027: files 0640, folders 0750)"),
)
ENVIRONMENT = "settings read from the environment (docs/usage.md):\n" + "\n".join(
    f"  {name:<42} {meaning}" for name, meaning in SETTINGS
)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Everything the command writes (through DuckDB, dbt and Airflow's runs too) is for the
    # owner and a group only (docs/security.md).
    try:
        apply_umask()
    except BadUmask as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return args.handler(args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="attendance",
        description=DESCRIPTION,
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="generate a synthetic LA and run the daily DAG on it, day by day",
        description="Generate a synthetic LA, deliver its extracts day by day (some through a "
        "reference MIS feed on 127.0.0.1) and run the real daily DAG for each school day; "
        "then the exports, reports and serving DAGs, and print a summary.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=PROJECT_ROOT / "demo",
        help="folder for the demo's landing, warehouse and logs (emptied first; default: "
        "demo/ in the checkout)",
    )
    _generator_options(demo)
    demo.set_defaults(handler=_demo)

    run = commands.add_parser(
        "run",
        help="run the daily DAG once on a landing folder",
        description="Run the daily DAG (pull, ingest, check extracts, build, audit, publish) "
        "once on a folder of register extracts, then the exports, reports and serving DAGs.",
    )
    run.add_argument(
        "--landing", required=True, help="folder of register extracts (docs/feed.md), any depth"
    )
    run.add_argument(
        "--warehouse",
        required=True,
        help="folder of the warehouse and what is published from it (created if missing)",
    )
    run.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="register day (the run's logical date), YYYY-MM-DD; default: the latest day the "
        "landed extracts cover (today when ATTENDANCE_FEED_URL is set, or none has landed)",
    )
    run.set_defaults(handler=_run)

    generate = commands.add_parser(
        "generate",
        help="write a synthetic LA's extracts",
        description="Write every school day's extracts of a synthetic LA, as schools' MIS "
        "exports would deliver them.",
    )
    generate.add_argument(
        "--landing", type=Path, required=True, help="folder to write the extracts to"
    )
    _generator_options(generate)
    generate.set_defaults(handler=_generate)

    summary = commands.add_parser(
        "summary",
        help="print the summary of a publication",
        description="Print the headline figures of the warehouse's current publication.",
    )
    summary.add_argument("--warehouse", required=True, help="the warehouse folder")
    summary.set_defaults(handler=_summary)
    return root


def _generator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schools", type=int, default=12, help="schools (default 12)")
    parser.add_argument("--pupils", type=int, default=3000, help="pupils (default 3000)")
    parser.add_argument("--days", type=int, default=20, help="school days of extracts (default 20)")
    parser.add_argument(
        "--window", type=int, default=10, help="school days in each extract (default 10)"
    )
    parser.add_argument(
        "--seed", type=int, default=2025, help="random seed: the same seed, the same LA"
    )


def _generator(args: argparse.Namespace) -> dict[str, int]:
    return {name: getattr(args, name) for name in ("schools", "pupils", "days", "window", "seed")}


def _demo(args: argparse.Namespace) -> int:
    from pipeline.demo import run_demo

    return run_demo(args.out, **_generator(args))


def _run(args: argparse.Namespace) -> int:
    from pipeline.console import run_once

    return run_once(args.landing, args.warehouse, args.date)


def _generate(args: argparse.Namespace) -> int:
    from pipeline.demo import generate

    return generate(args.landing, **_generator(args))


def _summary(args: argparse.Namespace) -> int:
    from pipeline.console import print_summary

    try:
        print_summary(args.warehouse)
    except FileNotFoundError as missing:
        # Nothing to summarise yet is a thing to say, not a traceback.
        print(f"error: {missing}; `attendance run` publishes one", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
