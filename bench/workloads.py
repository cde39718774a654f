"""The bench's workloads: fixtures (a warehouse holding the days before), landing folders of
generated extracts, the figures of a store, and the event-store export the peers read."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from synthetic.bulk import (
    BulkConfig,
    create_population,
    write_day_extracts,
    write_history,
)
from warehouse.locations import resolve_locations
from warehouse.project import DBT_PROJECT_DIR


@dataclass(frozen=True)
class Scale:
    name: str
    pupils: int
    pupils_per_school: int
    # W1: school day numbers (1-based) of the measured morning runs.
    w1_days: tuple[int, ...]
    # Build and publish the days before a measured morning first, as the previous morning's
    # run would have, so the measured build is the daily incremental one.
    previous_morning: bool = True
    peers: tuple[str, ...] = ("duckdb", "polars", "pandas", "postgres")
    # W3: national mornings, smallest first; the sweep stops at the first that misses the
    # time target or fails, so the record shows the largest size that fits.
    w3_pupils: tuple[int, ...] = ()
    # W1: measured runs of each morning, each from the same fixture; the record is the
    # median. One run of the same code varied by a third on this shared machine.
    w1_repeats: int = 1
    # Each peer on each workload's store is stopped after this many seconds (the W3 target: a
    # peer that needs longer could not serve a morning); the pipeline is then the faster.
    peer_time_limit: float = 600.0

    def config(self) -> BulkConfig:
        return BulkConfig(pupils=self.pupils, pupils_per_school=self.pupils_per_school)


SCALES = {
    # The same code at a size that runs in seconds (tests/bench/test_bench_smoke.py).
    "smoke": Scale(
        "smoke",
        pupils=400,
        pupils_per_school=100,
        w1_days=(5,),
        previous_morning=False,
        w3_pupils=(200, 400),
    ),
    "full": Scale(
        "full",
        pupils=250_000,
        pupils_per_school=500,
        w1_days=(5, 150),
        w3_pupils=(1_000_000, 2_000_000, 4_000_000, 8_000_000),
        w1_repeats=3,
    ),
}


def build_w1_fixture(
    config: BulkConfig, day_number: int, fixture: Path, run: Path, previous_morning: bool = True
) -> dict[str, float]:
    """A warehouse as it stood before the morning of `day_number`: the events of every earlier
    day in the store, and those days' marts built and published (the previous morning's run).

    Built at `run`/warehouse (where the measured run will use it: the same path keeps dbt's
    partial parsing valid, as on a real hub's server) and kept in `fixture` for the next
    bench; returns the seconds each part took (nothing when the fixture already exists).
    The event store alone is kept apart (`fixture`/../history), so a change to the models
    rebuilds only the marts: delete `fixture` and keep the history."""
    import time

    ready = fixture / "ready"
    if ready.exists():
        return {}
    shutil.rmtree(fixture, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)
    locations = resolve_locations(run / "landing", run / "warehouse")
    timings = build_history(config, day_number, fixture.parent / "history")
    shutil.copytree(fixture.parent / "history" / "warehouse", locations.warehouse, symlinks=True)
    if day_number > 1 and previous_morning:
        from pipeline import daily
        from pipeline.run_info import RunInfo

        started = time.perf_counter()
        run = RunInfo.for_day(None, warehouse=str(locations.warehouse), run_id="bench-fixture")
        daily.build(run)
        daily.publish(run, None)
        timings["previous_morning_build_publish_seconds"] = round(time.perf_counter() - started, 2)
    fixture.mkdir(parents=True)
    shutil.copytree(locations.warehouse, fixture / "warehouse", symlinks=True)
    ready.write_text("ok\n")
    return timings


def build_history(config: BulkConfig, day_number: int, history: Path) -> dict[str, float]:
    """The event store of the days before `day_number` (no marts), kept in `history`."""
    import time

    if (history / "ready").exists():
        return {}
    shutil.rmtree(history, ignore_errors=True)
    warehouse = history / "warehouse"
    warehouse.mkdir(parents=True)
    started = time.perf_counter()
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        create_population(con, config)
        if day_number > 1:
            write_history(con, config, day_number - 2, store_schema_ready=False)
        else:
            from ingestion.event_store import create_store

            create_store(con)
    (history / "ready").write_text("ok\n")
    return {"history_seconds": round(time.perf_counter() - started, 2)}


def prepare_run(config: BulkConfig, day_number: int, fixture: Path, run: Path) -> int:
    """The fixture's warehouse (restored at `run`/warehouse) and a landing folder with the
    day's extracts under `run`; returns the number of mark rows in the extracts."""
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    shutil.copytree(fixture / "warehouse", run / "warehouse", symlinks=True)
    with duckdb.connect() as con:
        create_population(con, config)
        mark_rows = write_day_extracts(con, config, day_number - 1, run / "landing")
    # The copy is gigabytes late in the year: written out now, not by the kernel while the
    # measured run waits on its own writes (this moved day 150's figure by 10 s and more).
    os.sync()
    return mark_rows


def export_events(warehouse_db: Path, target: Path) -> None:
    """The event tables as Parquet and the register codes, for the peers."""
    target.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_db), read_only=True) as con:
        for table in ("mark_events", "pupil_events", "school_events"):
            con.execute(f"copy events.{table} to '{target / table}.parquet'")
    shutil.copy(DBT_PROJECT_DIR / "seeds" / "register_codes.csv", target / "register_codes.csv")


def store_figures(warehouse_db: Path) -> dict[str, int]:
    """How much a workload's run held and took in: the events in its store, and the rows its
    ingest read, added and quarantined."""
    with duckdb.connect(str(warehouse_db), read_only=True) as con:
        marks, pupils = con.execute(
            "select (select count(*) from events.mark_events), "
            "(select count(*) from events.pupil_events)"
        ).fetchone()
        rows_read, new, quarantined = con.execute(
            "select sum(rows_read), sum(rows_new), sum(rows_quarantined) from ops.ingest_audit"
        ).fetchone()
    return {
        "store_mark_events": marks,
        "store_pupil_events": pupils,
        "ingest_rows_read": int(rows_read or 0),
        "ingest_rows_new": int(new or 0),
        "ingest_rows_quarantined": int(quarantined or 0),
    }
