"""`bench.run --combine`: a record that was itself combined keeps each row's own date."""

import copy
import json
from pathlib import Path

from bench.run import BENCH_DIR, combine, main, verdicts


def _single_run(date: str, commit: str, record: dict, workload: str, cpu: str = "cpu A") -> dict:
    run = {k: v for k, v in copy.deepcopy(record).items() if k not in ("runs", "notes")}
    run.update(date=date, commit=commit, peers={})
    run["machine"] = {**run["machine"], "cpu": cpu}
    run["workloads"] = {workload: run["workloads"][workload]}
    # As a single run writes it: the run's date and commit only at the top.
    for key in ("date", "commit"):
        run["workloads"][workload]["detail"].pop(key, None)
    return run


def test_combining_a_combined_record_keeps_each_rows_date_and_runs(tmp_path: Path) -> None:
    recorded = json.loads((BENCH_DIR / "results.json").read_text())
    first = combine(
        [
            _single_run("2026-01-01T00:00:00+00:00", "aaa", recorded, "W1_day150"),
            _single_run("2026-01-02T00:00:00+00:00", "bbb", recorded, "W1_day5"),
        ]
    )
    later = _single_run("2026-01-03T00:00:00+00:00", "ccc", recorded, "W1_day5", "cpu B")
    both = combine([first, later])
    assert both["workloads"]["W1_day150"]["detail"]["commit"] == "aaa"
    assert both["workloads"]["W1_day5"]["detail"]["commit"] == "ccc"
    assert [run["commit"] for run in both["runs"]] == ["aaa", "bbb", "ccc"]
    assert [run["cpu"] for run in both["runs"]] == ["cpu A", "cpu A", "cpu B"]
    assert both["date"] == "2026-01-03T00:00:00+00:00"
    # The header is the latest run's, even when an older record comes first.
    assert (both["commit"], both["machine"]["cpu"]) == ("ccc", "cpu B")

    paths = []
    for name, record in (("first", first), ("later", later)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(record))
    assert main(["--combine", *map(str, paths), "--out", str(tmp_path), "--note", "n"]) == 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["notes"][-1] == "n"
    assert written["workloads"]["W1_day150"]["detail"]["date"] == "2026-01-01T00:00:00+00:00"
    assert "at `ccc` (cpu B)" in (tmp_path / "RESULTS.md").read_text()


def test_the_peers_are_compared_with_the_morning_whose_store_they_read() -> None:
    recorded = json.loads((BENCH_DIR / "results.json").read_text())
    with_peers = _single_run("2026-01-01T00:00:00+00:00", "aaa", recorded, "W1_day5")
    with_peers.update(peers=copy.deepcopy(recorded["peers"]), peers_store="W1_day5")
    later = _single_run("2026-01-02T00:00:00+00:00", "bbb", recorded, "W1_day150")
    later.pop("peers_store", None)
    both = combine([with_peers, later])
    assert both["peers_store"] == "W1_day5"
    day5 = both["workloads"]["W1_day5"]["seconds"]
    compared = [v for v in verdicts(both) if v.startswith("pipeline (")]
    assert compared and all(v.startswith(f"pipeline ({day5:g} s,") for v in compared)
