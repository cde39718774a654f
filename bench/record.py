"""The results record: bench/results.json (and RESULTS.md beside it) written with its
verdicts, several runs' records combined into one, and the machine and commit a run was taken
on, so that a figure can be traced to what produced it."""

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench import BENCH_DIR
from bench.report import write_report
from bench.verdicts import verdicts


def write_results(results: dict[str, Any], out: Path) -> None:
    # The verdicts are worked out again on every write, so a combined record is judged on
    # all of its rows, not only the latest run's.
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
    """The checkout's commit, marked when tracked files were changed: figures from code that
    was never committed cannot be reproduced from the commit alone."""
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
