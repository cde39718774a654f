"""How much of each public table is withheld, and how long the audited suppression takes,
on a generated LA taken through the pipeline's own build and publication (docs/bi.md).

    python -m bench.withheld demo OUT            # the `make demo` LA (12 schools, 3,000 pupils)
    python -m bench.withheld bulk OUT --days 10  # 250,000 pupils in 500 schools (synthetic/bulk.py)
    python -m bench.withheld bulk OUT --reuse    # OUT's publication again: only the public tier

The demo LA is delivered as extracts and ingested; the bulk LA's event store is written
directly (synthetic/bulk.py `write_history`, as bench/workloads.py does), then both are built
by dbt and published, and the public tier is made from the publication (serving/public_tier.py).
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

from pipeline import daily
from pipeline.run_info import RunInfo
from serving.public_tier import (
    DAILY_TO_DFE,
    PUBLIC_MARTS,
    SEN_MEASURES,
    public_tier,
    read_rows,
    withheld_share,
)
from synthetic import GeneratorConfig, build_la, write_extracts_for_day
from synthetic.bulk import BulkConfig, create_population, write_history

# The counted columns of each public table, as docs/bi.md reports them.
COLUMNS = {
    "attendance_by_sen": tuple(m for _, columns in SEN_MEASURES.values() for m in columns),
    "attendance_by_sen_need": tuple(m for _, columns in SEN_MEASURES.values() for m in columns),
    "attendance_by_characteristic": tuple(
        m for _, columns in SEN_MEASURES.values() for m in columns
    ),
    "school_daily_attendance": ("pupils_expected", *DAILY_TO_DFE, "attendance_rate"),
}


def demo_warehouse(out: Path) -> RunInfo:
    """The `make demo` LA (attendance demo's defaults), every day delivered and ingested."""
    la = build_la(GeneratorConfig(schools=12, pupils=3000, school_days=20, window_days=10))
    run = RunInfo.for_day(
        None, landing=str(out / "landing"), warehouse=str(out / "warehouse"), run_id="withheld"
    )
    for index in range(len(la.days)):
        write_extracts_for_day(la, index, run.locations.landing)
    daily.ingest(run)
    return run


def bulk_warehouse(out: Path, days: int) -> RunInfo:
    config = BulkConfig(school_days=days)
    warehouse = out / "warehouse"
    warehouse.mkdir(parents=True)
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        create_population(con, config)
        write_history(con, config, days - 1, store_schema_ready=False)
    return RunInfo.for_day(None, warehouse=str(warehouse), run_id="withheld")


def measure(database: Path, timings: dict) -> dict:
    """The public tier of the publication `database`, and how much of it is withheld."""
    started = time.perf_counter()
    with duckdb.connect(str(database), read_only=True) as con:
        tier = public_tier(con)
        marts = {t: read_rows(con, t, order) for t, order in PUBLIC_MARTS.items()}
        # The public copy of attendance_by_characteristic has its LA rows only.
        marts["attendance_by_characteristic"] = [
            r for r in marts["attendance_by_characteristic"] if r["level"] == "la"
        ]
        schools = con.execute("select count(distinct urn) from dfe_daily_attendance").fetchone()
        pupils = con.execute("select count(distinct upn) from pupil_attendance").fetchone()
    timings["suppress_and_audit_seconds"] = round(time.perf_counter() - started, 1)
    tables = {}
    for name, rows in tier.tables.items():
        share = withheld_share(rows, COLUMNS[name])
        la_rows = [r for r in rows if r.get("level") == "la"]
        if la_rows:
            share["la_rows"] = len(la_rows)
            share["la_rows_withheld"] = withheld_share(la_rows, COLUMNS[name])["rows_withheld"]
            # LA cells withheld as complements (the mart shows them: not 1 to 4 themselves).
            share["la_cells_complement"] = sum(
                row[c] is None and mart[c] is not None
                for row, mart in zip(rows, marts[name], strict=True)
                if row["level"] == "la"
                for c in COLUMNS[name]
            )
        tables[name] = share
    return {
        "schools": schools[0],
        "pupils": pupils[0],
        "secondary_cells": tier.withheld,
        "tables": tables,
        **timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.withheld", description=__doc__)
    parser.add_argument("la", choices=("demo", "bulk"))
    parser.add_argument("out", type=Path, help="a work folder (emptied first)")
    parser.add_argument("--days", type=int, default=10, help="bulk: school days (default 10)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the publication already in OUT (a run of this command) without "
        "generating, building or publishing again",
    )
    args = parser.parse_args(argv)
    database = args.out / "warehouse" / "published" / "published.duckdb"
    timings: dict = {}
    if not args.reuse:
        shutil.rmtree(args.out, ignore_errors=True)
        args.out.mkdir(parents=True)
        run = demo_warehouse(args.out) if args.la == "demo" else bulk_warehouse(args.out, args.days)
        started = time.perf_counter()
        daily.build(run)
        daily.publish(run, None)
        timings["build_publish_seconds"] = round(time.perf_counter() - started, 1)
        database = run.locations.published / "published.duckdb"
    elif not database.exists():
        parser.error(f"{database}: no publication to reuse; run without --reuse first")
    print(json.dumps(measure(database, timings), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
