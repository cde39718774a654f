"""`make bench`: measure the workloads and the peers; write bench/results.json and RESULTS.md.

    python -m bench.run [--scale full|smoke] [--work DIR] [--out DIR] [--only W1,peers]

Every measured step runs in its own process (wall time, peak memory of it and its children,
the machine's load average before and after). Fixtures (the event store of the days before a
measured morning) are built once and kept under the work folder.
"""

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import BENCH_DIR
from bench.peers.runs import run_peers
from bench.record import combine, commit, machine, write_results
from bench.runners import run_mornings, run_national, run_replay
from bench.verdicts import TARGETS
from bench.workloads import SCALES, Scale
from warehouse.permissions import apply_umask


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
    # The warehouses and stores under --work hold (synthetic) pupil data: the same modes as a
    # real run's, for every measured step (each inherits the umask).
    apply_umask()
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
        # Refused before anything is built: a morning with no measured run has no figure.
        if args.w1_repeats < 1:
            parser.error("--w1-repeats must be 1 or more")
        scale = replace(scale, w1_repeats=args.w1_repeats)
    if args.peer_time_limit is not None:
        scale = replace(scale, peer_time_limit=args.peer_time_limit)
    results = run_bench(scale, args.work / args.scale, set(args.only.split(",")))
    write_results(results, args.out)
    return 0


def run_bench(scale: Scale, work: Path, parts: set[str]) -> dict[str, Any]:
    """The parts asked for, in this order: the peers come last because they read the stores
    the workloads' runs left under `work`, and reuse the W2 replay's bare DuckDB bound."""
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
        run_mornings(scale, work, results)
    if "W2" in parts:
        results["workloads"]["W2_replay"] = run_replay(scale, work / "w2").as_record()
    if "W3" in parts:
        run_national(scale, work / "w3", results)
    if "peers" in parts:
        results["peers"] = run_peers(scale, work, results)
    return results


if __name__ == "__main__":
    sys.exit(main())
