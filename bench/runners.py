"""The workloads measured, each step in its own process through `bench.measure.run_python`:
W1 (a large LA's mornings through the real DAG), W2 (a whole year's store rebuilt by dbt, and
its bare DuckDB bound) and W3 (national first mornings, growing until one misses a target)."""

import os
import shutil
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.measure import Measurement, StepFailed, run_python
from bench.peers.compare import check_equal
from bench.verdicts import TARGETS
from bench.workloads import (
    Scale,
    build_history,
    build_w1_fixture,
    export_events,
    prepare_run,
    store_figures,
)
from ingestion.contract import KINDS

KIND_NAMES = tuple(kind.name for kind in KINDS)


def run_mornings(scale: Scale, work: Path, results: dict[str, Any]) -> None:
    """W1: each morning of `scale.w1_days` through the real DAG, `scale.w1_repeats` times
    from the same fixture (restored before each run), recorded by its median run."""
    config = scale.config()
    for day_number in scale.w1_days:
        fixture = work / f"w1-day{day_number}" / "fixture"
        run = work / f"w1-day{day_number}" / "run"
        started = time.perf_counter()
        fixture_timings = build_w1_fixture(config, day_number, fixture, run, scale.previous_morning)
        fixture_seconds = round(time.perf_counter() - started, 2)
        day = config.days[day_number - 1]
        repeats, bounds = [], []
        for _ in range(scale.w1_repeats):
            mark_rows = prepare_run(config, day_number, fixture, run)
            repeats.append(
                run_python(
                    f"W1 day {day_number}",
                    "bench.dag_run",
                    [str(run / "landing"), str(run / "warehouse"), day.isoformat()],
                    run / "dag_run.log",
                )
            )
            # After the measured run, on the same landing folder and a copy of the fixture.
            bounds.append(run_ingest_bound(f"W1 day {day_number}", fixture / "warehouse", run))
        measured = with_ingest_bound(median_run(repeats), bounds)
        measured.detail.update(
            {
                "register_day": day.isoformat(),
                "extract_mark_rows": mark_rows,
                "fixture_seconds": fixture_seconds,
                **fixture_timings,
                **store_figures(run / "warehouse" / "warehouse.duckdb"),
            }
        )
        results["workloads"][f"W1_day{day_number}"] = measured.as_record()
        print(
            f"{measured.name}: {measured.seconds} s (runs: "
            f"{', '.join(str(r.seconds) for r in repeats)}), peak {measured.peak_rss_mib} MiB"
        )


def run_ingest_bound(name: str, pre_morning: Path, run: Path) -> Measurement:
    """`bench.ingest_bound`, bare DuckDB's ingest of the run's landing folder, in its own
    process, on a copy of the pre-morning warehouse `pre_morning` (the copy is deleted after:
    late in the year it is gigabytes)."""
    copy = run / "ingest-bound" / "warehouse.duckdb"
    shutil.rmtree(copy.parent, ignore_errors=True)
    copy.parent.mkdir(parents=True)
    shutil.copyfile(pre_morning / "warehouse.duckdb", copy)
    os.sync()
    try:
        bound = run_python(
            f"{name} ingest bound",
            "bench.ingest_bound",
            ["--landing", str(run / "landing"), "--warehouse", str(copy)],
            run / "ingest_bound.log",
        )
    except StepFailed as failure:
        # The morning's own figures stand; the record says why it has no bound.
        print(f"{name} ingest bound failed: see {run / 'ingest_bound.log'}")
        failure.measurement.detail["error"] = str(failure)[-2000:]
        return failure.measurement
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    print(f"{bound.name}: {bound.detail['seconds']} s ({bound.seconds} s with its process)")
    return bound


def with_ingest_bound(measured: Measurement, bounds: list[Measurement]) -> Measurement:
    """The morning's record with its ingest bound: `ingest_bound_seconds` (the bound's own
    time, from opening the warehouse copy to its commit; the median of its runs) and
    `ingest_ratio`, the ingest task's seconds over it."""
    failed = [bound for bound in bounds if "outcome" in bound.detail]
    if failed:
        detail = {
            **measured.detail,
            "ingest_bound": {key: failed[0].detail[key] for key in ("outcome", "error")},
        }
        return replace(measured, detail=detail)
    seconds = [bound.detail["seconds"] for bound in bounds]
    bound_seconds = round(statistics.median_low(seconds), 3)
    middle = next(bound for bound in bounds if bound.detail["seconds"] == bound_seconds)
    ingest = measured.detail.get("task_seconds", {}).get("ingest")
    detail = {
        **measured.detail,
        "ingest_bound_seconds": bound_seconds,
        "ingest_ratio": round(ingest / bound_seconds, 2) if ingest and bound_seconds else None,
        "ingest_bound": {
            "runs_seconds": seconds,
            "process_seconds": middle.seconds,
            "peak_rss_mib": middle.peak_rss_mib,
            "loadavg_before": middle.loadavg_before,
            "rows_new": sum(middle.detail[kind]["rows_new"] for kind in KIND_NAMES),
            "rows_invalid": sum(middle.detail[kind]["rows_invalid"] for kind in KIND_NAMES),
            "kinds": {kind: middle.detail[kind] for kind in KIND_NAMES},
        },
    }
    return replace(measured, detail=detail)


def median_run(repeats: list[Measurement]) -> Measurement:
    """The run of median time (the lower of the middle two for an even count), with every
    run's time and the highest peak memory of them all: a figure for a morning that one slow
    or fast run on a shared machine does not decide, and memory that any run needed."""
    ordered = sorted(repeats, key=lambda run: run.seconds)
    middle = ordered[(len(ordered) - 1) // 2]
    return replace(
        middle,
        peak_rss_mib=max(run.peak_rss_mib for run in repeats),
        detail={**middle.detail, "runs_seconds": [run.seconds for run in repeats]},
    )


def run_replay(scale: Scale, work: Path) -> Measurement:
    """W2: every mart rebuilt from an event store holding the whole school year (dbt
    --full-refresh, data tests included), and the bare DuckDB bound on the same store: the two
    marts the peers compute, by one query each, checked equal to the replay's."""
    config = scale.config()
    fixture_timings = build_history(config, len(config.days) + 1, work / "history")
    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    shutil.copytree(work / "history" / "warehouse", run / "warehouse", symlinks=True)
    warehouse_db = run / "warehouse" / "warehouse.duckdb"
    measured = run_python("W2 replay", "bench.replay", [str(run / "warehouse")], run / "replay.log")
    measured.detail.update({**fixture_timings, **store_figures(warehouse_db)})
    print(f"{measured.name}: {measured.seconds} s, peak {measured.peak_rss_mib} MiB")

    # Exported where the peers look for this store's events (`bench.peers.runs`), so they
    # reuse it: the W2 store is 96 million mark events.
    source = run / "peers" / "input"
    export_events(warehouse_db, source)
    bound = run_python(
        "W2 bare DuckDB",
        "bench.peers",
        ["duckdb", str(source), str(run / "peers" / "duckdb")],
        run / "peer-duckdb.log",
    )
    measured.detail["bare_duckdb"] = {
        **bound.as_record(),
        "rows_checked_equal": check_equal(warehouse_db, run / "peers" / "duckdb", "duckdb"),
    }
    print(f"{bound.name}: {bound.seconds} s, peak {bound.peak_rss_mib} MiB")
    return measured


def run_national(scale: Scale, work: Path, results: dict[str, Any]) -> None:
    """W3: the national feed's first morning of the year (day 1, an empty store: every
    school's extract of one day) ingested, built and published through the real DAG, at
    growing sizes until one misses the time target or fails; the record keeps every size
    tried, so it shows the largest that fits and why the next does not."""
    for pupils in scale.w3_pupils:
        config = replace(scale.config(), pupils=pupils)
        name = f"W3_{pupils}"
        run = work / str(pupils) / "run"
        build_w1_fixture(config, 1, work / str(pupils) / "fixture", run, previous_morning=False)
        mark_rows = prepare_run(config, 1, work / str(pupils) / "fixture", run)
        try:
            measured = run_python(
                f"W3 {pupils:,} pupils",
                "bench.dag_run",
                [str(run / "landing"), str(run / "warehouse"), config.days[0].isoformat()],
                run / "dag_run.log",
            )
        except StepFailed as failure:
            results.setdefault("failures", {})[name] = str(failure)[-2000:]
            print(f"W3 {pupils:,} pupils failed: see {run / 'dag_run.log'}")
            break
        bound = run_ingest_bound(
            f"W3 {pupils:,} pupils", work / str(pupils) / "fixture" / "warehouse", run
        )
        measured = with_ingest_bound(measured, [bound])
        measured.detail.update(
            {
                "register_day": config.days[0].isoformat(),
                "pupils": pupils,
                "schools": config.schools,
                "extract_mark_rows": mark_rows,
                **store_figures(run / "warehouse" / "warehouse.duckdb"),
            }
        )
        results["workloads"][name] = measured.as_record()
        print(f"{measured.name}: {measured.seconds} s, peak {measured.peak_rss_mib} MiB")
        # A larger size would miss it too, and take longer to find out.
        if (
            measured.seconds > TARGETS["w3_seconds"]
            or measured.peak_rss_mib > TARGETS["peak_rss_mib"]
        ):
            break
