"""`make bench`: measure the workloads and the peers; write bench/results.json and RESULTS.md.

    python -m bench.run [--scale full|smoke] [--work DIR] [--out DIR] [--only W1,peers]

Every measured step runs in its own process (wall time, peak memory of it and its children,
the machine's load average before and after). Fixtures (the event store of the days before a
measured morning) are built once and kept under the work folder.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.compare import check_equal
from bench.measure import Measurement, StepFailed, run_python
from bench.report import write_report
from bench.workloads import (
    SCALES,
    Scale,
    build_history,
    build_w1_fixture,
    export_events,
    prepare_run,
)

BENCH_DIR = Path(__file__).resolve().parent
TARGETS = {
    "w1_seconds": 30.0,
    "w1_late_over_early": 1.3,
    "w2_seconds": 180.0,
    "w2_over_duckdb": 3.0,
    "w3_seconds": 600.0,
    "peak_rss_mib": 8 * 1024.0,
}
# A peer holding more than this is stopped: the machine has 24 GiB and the PostgreSQL server
# must keep running beside it.
PEER_MEMORY_LIMIT_MIB = 20 * 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--out", type=Path, default=BENCH_DIR)
    parser.add_argument(
        "--only", default="W1,peers,W2,W3", help="comma-separated: W1, peers, W2, W3"
    )
    parser.add_argument("--w1-days", help="comma-separated school day numbers (default: scale's)")
    parser.add_argument("--w3-pupils", help="comma-separated W3 sizes (default: scale's)")
    parser.add_argument(
        "--w1-repeats", type=int, help="measured runs of each W1 morning (default: scale's)"
    )
    parser.add_argument(
        "--peer-time-limit", type=float, help="seconds before a peer is stopped (default: 600)"
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        help="no measuring: merge these results.json files (later ones win) into --out",
    )
    parser.add_argument("--note", action="append", default=[], help="with --combine: a note")
    args = parser.parse_args(argv)
    if args.combine:
        results = combine([json.loads(path.read_text()) for path in args.combine])
        results["notes"] = results.get("notes", []) + args.note
        write_results(results, args.out)
        return 0
    scale = SCALES[args.scale]
    if args.w1_days:
        scale = replace(scale, w1_days=tuple(int(d) for d in args.w1_days.split(",")))
    if args.w3_pupils:
        scale = replace(scale, w3_pupils=tuple(int(p) for p in args.w3_pupils.split(",")))
    if args.w1_repeats is not None:
        if args.w1_repeats < 1:
            parser.error("--w1-repeats must be 1 or more")
        scale = replace(scale, w1_repeats=args.w1_repeats)
    if args.peer_time_limit is not None:
        scale = replace(scale, peer_time_limit=args.peer_time_limit)
    results = run_bench(scale, args.work / args.scale, set(args.only.split(",")))
    write_results(results, args.out)
    return 0


def write_results(results: dict[str, Any], out: Path) -> None:
    results["verdicts"] = verdicts(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, out / "RESULTS.md")
    print(f"results: {out / 'results.json'}, {out / 'RESULTS.md'}")


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Results of separate `make bench` runs (e.g. one morning each) as one record; each
    workload and peer keeps its own date, commit and load, each run its machine's CPU. The
    record's own commit and machine are the latest run's."""
    latest = max(runs, key=lambda run: run["date"])
    combined = {**latest, "workloads": {}, "peers": {}, "runs": []}
    combined.pop("peers_store", None)
    for run in runs:
        dated = {"date": run["date"], "commit": run["commit"]}
        for name, record in run["workloads"].items():
            # A record that was itself combined keeps each row's own date and commit.
            combined["workloads"][name] = {**record, "detail": {**dated, **record["detail"]}}
        for workload, ran in _peers_by_workload(run).items():
            for name, record in ran.items():
                combined["peers"].setdefault(workload, {})[name] = {
                    **record,
                    "detail": {**dated, **record["detail"]},
                }
        combined["runs"].extend(
            {"cpu": run["machine"]["cpu"], **listed}
            for listed in run.get("runs") or [{k: run[k] for k in ("date", "commit", "scale")}]
        )
        combined["notes"] = run.get("notes", []) or combined.get("notes", [])
        combined["failures"] = {**combined.get("failures", {}), **run.get("failures", {})}
    combined["date"] = max(run["date"] for run in runs)
    return combined


def _peers_by_workload(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The peers of a run by the workload whose store they read. Records written before the
    peers ran on every workload held one store's peers, named by `peers_store`."""
    peers = run.get("peers") or {}
    if "peers_store" in run and all("seconds" in p for p in peers.values()):
        return {run["peers_store"]: peers}
    return peers


def run_bench(scale: Scale, work: Path, parts: set[str]) -> dict[str, Any]:
    config = scale.config()
    results: dict[str, Any] = {
        "scale": scale.name,
        "pupils": scale.pupils,
        "schools": config.schools,
        "window_days": config.window_days,
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "shared_machine_note": (
            "Figures were taken on a shared 2-core machine while other engineers ran tests "
            "and CI: each measurement carries the load average before and after it."
        ),
        "targets": TARGETS,
        "workloads": {},
        "peers": {},
    }
    if "W1" in parts:
        for day_number in scale.w1_days:
            fixture = work / f"w1-day{day_number}" / "fixture"
            run = work / f"w1-day{day_number}" / "run"
            started = time.perf_counter()
            fixture_timings = build_w1_fixture(
                config, day_number, fixture, run, scale.previous_morning
            )
            fixture_seconds = round(time.perf_counter() - started, 2)
            day = config.days[day_number - 1]
            repeats = []
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
            measured = median_run(repeats)
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
    if "W2" in parts:
        results["workloads"]["W2_replay"] = run_replay(scale, work / "w2").as_record()
    if "W3" in parts:
        run_national(scale, work / "w3", results)
    if "peers" in parts:
        results["peers"] = run_peers(scale, work, results)
    return results


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
        if (
            measured.seconds > TARGETS["w3_seconds"]
            or measured.peak_rss_mib > TARGETS["peak_rss_mib"]
        ):
            break


def verdicts(results: dict[str, Any]) -> list[str]:
    """Each target of the issue that these results speak to: met, or missed by how much."""
    found = []
    workloads = results["workloads"]

    def verdict(what: str, value: float, target: float, unit: str = "") -> None:
        state = "met" if value <= target else f"MISSED by {value / target:.1f}x"
        found.append(f"{what}: {value:g}{unit} against {target:g}{unit}: {state}")

    for name, w in workloads.items():
        if name.startswith("W1"):
            verdict(f"{name} end to end", w["seconds"], TARGETS["w1_seconds"], " s")
        if name.startswith("W2"):
            verdict(f"{name}", w["seconds"], TARGETS["w2_seconds"], " s")
            bound = w["detail"].get("bare_duckdb")
            if bound:
                ratio = round(w["seconds"] / bound["seconds"], 2)
                verdict(
                    f"{name} over bare DuckDB ({bound['seconds']:g} s)",
                    ratio,
                    TARGETS["w2_over_duckdb"],
                )
        if name.startswith("W3"):
            verdict(f"{name} end to end", w["seconds"], TARGETS["w3_seconds"], " s")
        verdict(f"{name} peak memory", w["peak_rss_mib"], TARGETS["peak_rss_mib"], " MiB")
    early, late = workloads.get("W1_day5"), workloads.get("W1_day150")
    if early and late:
        ratio = round(late["seconds"] / early["seconds"], 2)
        verdict("W1 day 150 over day 5", ratio, TARGETS["w1_late_over_early"])
    for name, w in workloads.items():
        replayed = w["detail"].get("previous_morning_build_publish_seconds")
        if name.startswith("W1") and replayed and w["detail"].get("store_mark_events", 0) > 1e7:
            found.append(
                f"not W2, but close to it: the {name} fixture's first dbt build (every mart "
                f"from {w['detail']['store_mark_events']:,} mark events, then publication) "
                f"took {replayed:g} s against the W2 target {TARGETS['w2_seconds']:g} s"
            )
    if not any(n.startswith("W2") for n in workloads):
        found.append("W2 (replay of a school year, 95 million marks): not measured in this run")
    national = [
        w["detail"]["pupils"]
        for n, w in workloads.items()
        if n.startswith("W3")
        and w["seconds"] <= TARGETS["w3_seconds"]
        and w["peak_rss_mib"] <= TARGETS["peak_rss_mib"]
    ]
    if any(n.startswith("W3") for n in workloads) or results.get("failures"):
        largest = f"{max(national):,} pupils" if national else "none of the sizes tried"
        found.append(f"W3 (a national day): the largest size that fits the targets is {largest}")
    else:
        found.append("W3 (a national day, 8 million pupils): not measured in this run")
    for workload, ran in results["peers"].items():
        if workload not in workloads:
            continue
        ours = workloads[workload]["seconds"]
        for name, p in ran.items():
            found.append(peer_verdict(workload, ours, name, p))
    return found


def peer_verdict(workload: str, ours: float, peer: str, record: dict[str, Any]) -> str:
    """The pipeline's time on a workload against a peer's on the same store. The pipeline's
    includes everything it does (W1 and W3: ingesting the day's extracts, every mart, the
    audit and publication; W2: every mart and its tests); the peer's is two marts from the
    event store as it stood after the pipeline's run, so it does less work on the same data."""
    outcome = record["detail"].get("outcome")
    if peer == "duckdb":
        if outcome:
            return f"{workload}: the bare DuckDB bound did not finish ({outcome})"
        return (
            f"{workload}: pipeline {ours:g} s is {ours / record['seconds']:.1f}x the bare "
            f"DuckDB bound ({record['seconds']:g} s, two marts from the event store, no framework)"
        )
    if outcome:
        return f"{workload}: pipeline ({ours:g} s) faster than {peer} ({outcome})"
    if ours < record["seconds"]:
        return (
            f"{workload}: pipeline ({ours:g} s) faster than {peer} ({record['seconds']:g} s, "
            f"{record['seconds'] / ours:.1f}x the pipeline's)"
        )
    return (
        f"{workload}: pipeline ({ours:g} s) SLOWER than {peer} ({record['seconds']:g} s): MISSED "
        f"by {ours / record['seconds']:.1f}x"
    )


def run_replay(scale: Scale, work: Path) -> Measurement:
    """W2: every mart rebuilt from an event store holding the whole school year (dbt
    --full-refresh, data tests included), and the bare DuckDB bound on the same store: the two
    marts the peers compute, by one query each, checked equal to the replay's."""
    import shutil

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


def peer_stores(scale: Scale, work: Path) -> list[tuple[str, Path, Path]]:
    """(workload, its warehouse, the database holding its marts) for each workload whose run
    under `work` built its marts: every W1 morning, the W2 replay and the largest W3 size."""
    published = Path("published", "published.duckdb")
    found = [
        (f"W1_day{day}", work / f"w1-day{day}" / "run" / "warehouse", published)
        for day in scale.w1_days
    ]
    if (work / "w2" / "run" / "replay.json").exists():
        # The replay builds the marts in the warehouse and publishes nothing.
        found.append(("W2_replay", work / "w2" / "run" / "warehouse", Path("warehouse.duckdb")))
    national = [
        (f"W3_{pupils}", work / "w3" / str(pupils) / "run" / "warehouse", published)
        for pupils in sorted(scale.w3_pupils)
    ]
    found += [w for w in national if (w[1] / w[2]).exists()][-1:]
    return [
        (name, warehouse / "warehouse.duckdb", warehouse / marts)
        for name, warehouse, marts in found
        if (warehouse / marts).exists()
    ]


def run_peers(scale: Scale, work: Path, results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each peer on the event store of every workload, its results checked equal to that
    workload's marts. A peer is stopped after `scale.peer_time_limit` seconds or at
    PEER_MEMORY_LIMIT_MIB, and is not run again on a larger store: it would not finish there
    either, and each try costs the limit."""
    import bench.peers

    stopped: dict[str, tuple[int, str]] = {}  # peer: mark events of the store, and workload
    peers: dict[str, dict[str, Any]] = {}
    for workload, warehouse_db, marts_db in peer_stores(scale, work):
        marks = store_figures(warehouse_db)["store_mark_events"]
        folder = warehouse_db.parent.parent / "peers"
        ran = peers[workload] = {}
        bound = results["workloads"].get(workload, {}).get("detail", {}).get("bare_duckdb")
        if not bound:
            # A replay measured in this run exported this store to this folder for its bound.
            export_events(warehouse_db, folder / "input")
        for peer in scale.peers:
            if peer == "duckdb" and bound:
                # W2's bound, measured on this store in this run.
                checked = {
                    "rows_checked_equal": bound["rows_checked_equal"],
                    "store_mark_events": marks,
                }
                ran[peer] = {**bound, "detail": {**bound["detail"], **checked}}
                continue
            if peer in stopped and marks >= stopped[peer][0]:
                ran[peer] = _not_run(peer, f"stopped on the store of {stopped[peer][1]}", marks)
                print(f"peer {peer} on {workload}: {ran[peer]['detail']['outcome']}")
                continue
            out = folder / peer
            try:
                measured = run_python(
                    f"peer {peer}",
                    "bench.peers",
                    [peer, str(folder / "input"), str(out)],
                    folder / f"{peer}.log",
                    time_limit=scale.peer_time_limit,
                    memory_limit_mib=PEER_MEMORY_LIMIT_MIB,
                )
            except StepFailed as failure:
                measured = failure.measurement
                stopped[peer] = (marks, workload)
                if peer == "postgres":
                    bench.peers.stop_postgres()
            else:
                measured.detail["rows_checked_equal"] = check_equal(marts_db, out, peer)
            measured.detail["store_mark_events"] = marks
            ran[peer] = measured.as_record()
            print(
                f"peer {peer} on {workload}: {measured.seconds} s, peak "
                f"{measured.peak_rss_mib} MiB {measured.detail.get('outcome', '')}"
            )
    return peers


def _not_run(peer: str, why: str, marks: int) -> dict[str, Any]:
    return {
        "name": f"peer {peer}",
        "seconds": None,
        "peak_rss_mib": None,
        "loadavg_before": None,
        "loadavg_after": None,
        "detail": {"outcome": f"not run: {why}, a smaller one", "store_mark_events": marks},
    }


def store_figures(warehouse_db: Path) -> dict[str, int]:
    import duckdb

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


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=BENCH_DIR,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=BENCH_DIR,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
