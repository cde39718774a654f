"""`bench.run --combine`: a record that was itself combined keeps each row's own date."""

import copy
import json
from pathlib import Path

from bench import BENCH_DIR
from bench.record import combine
from bench.run import main
from bench.verdicts import verdicts


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


def _peer(seconds: float | None, outcome: str | None = None) -> dict:
    detail = {"outcome": outcome} if outcome else {"compute_seconds": seconds}
    return {
        "name": "peer",
        "seconds": seconds,
        "peak_rss_mib": 100.0,
        "loadavg_before": [1.0, 1.0, 1.0],
        "loadavg_after": [1.0, 1.0, 1.0],
        "detail": detail,
    }


def test_each_workload_is_compared_with_the_peers_on_its_own_store() -> None:
    recorded = json.loads((BENCH_DIR / "results.json").read_text())
    early = _single_run("2026-01-01T00:00:00+00:00", "aaa", recorded, "W1_day5")
    early["workloads"]["W1_day5"]["seconds"] = 20.0
    early["peers"] = {"W1_day5": {"duckdb": _peer(2.0), "polars": _peer(4.0)}}
    late = _single_run("2026-01-02T00:00:00+00:00", "bbb", recorded, "W1_day150")
    late["workloads"]["W1_day150"]["seconds"] = 30.0
    late["peers"] = {
        "W1_day150": {
            "polars": _peer(60.0),
            "pandas": _peer(412.5, "out of memory: stopped at 20500 MiB"),
            "postgres": _peer(None, "not run: stopped on the store of W1_day5, a smaller one"),
        }
    }
    both = combine([early, late])
    assert set(both["peers"]) == {"W1_day5", "W1_day150"}
    assert both["peers"]["W1_day150"]["polars"]["detail"]["commit"] == "bbb"
    found = verdicts(both)
    assert "W1_day5: pipeline 20 s is 10.0x the bare DuckDB bound" in "\n".join(found)
    assert "W1_day5: pipeline (20 s) SLOWER than polars (4 s): MISSED by 5.0x" in found
    assert "W1_day150: pipeline (30 s) faster than polars (60 s, 2.0x the pipeline's)" in found
    assert (
        "W1_day150: pipeline (30 s) faster than pandas (out of memory: stopped at 20500 MiB)"
        in found
    )
    assert any(
        v.startswith("W1_day150: pipeline (30 s) faster than postgres (not run") for v in found
    )


def test_a_record_from_before_the_peers_ran_on_every_workload_is_read_by_its_store() -> None:
    recorded = json.loads((BENCH_DIR / "results.json").read_text())
    old = _single_run("2026-01-01T00:00:00+00:00", "aaa", recorded, "W1_day5")
    old.update(peers={"polars": _peer(2.0), "pandas": _peer(6.0)}, peers_store="W1_day5")
    both = combine([old, _single_run("2026-01-02T00:00:00+00:00", "bbb", recorded, "W2_replay")])
    assert set(both["peers"]) == {"W1_day5"} and "peers_store" not in both
    assert set(both["peers"]["W1_day5"]) == {"polars", "pandas"}
