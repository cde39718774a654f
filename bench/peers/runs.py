"""Every peer on the event store of every workload the bench ran, each in its own process
(`python -m bench.peers`), its result checked equal to that workload's marts."""

from pathlib import Path
from typing import Any

from bench.measure import StepFailed, run_python
from bench.peers.compare import check_equal
from bench.peers.postgres import stop_postgres
from bench.workloads import Scale, export_events, store_figures

# A peer holding more than this is stopped: the machine has 24 GiB and the PostgreSQL server
# must keep running beside it.
PEER_MEMORY_LIMIT_MIB = 20 * 1024.0


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
                    stop_postgres()
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
    """A record of the measured shape with no figures, so RESULTS.md and the verdicts show
    the peer and why it has none."""
    return {
        "name": f"peer {peer}",
        "seconds": None,
        "peak_rss_mib": None,
        "loadavg_before": None,
        "loadavg_after": None,
        "detail": {"outcome": f"not run: {why}, a smaller one", "store_mark_events": marks},
    }
