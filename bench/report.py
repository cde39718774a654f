"""bench/RESULTS.md from the results record."""

from pathlib import Path
from typing import Any


def write_report(results: dict[str, Any], path: Path) -> None:
    m = results["machine"]
    lines = [
        "# Bench results",
        "",
        f"Scale `{results['scale']}`: {results['pupils']:,} pupils in {results['schools']:,} "
        f"schools, {results['window_days']}-session-day extract window. Taken "
        f"{results['date']} at commit `{results['commit']}` on {m['cpus']} cores "
        f"({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}.",
        "",
        f"**{results['shared_machine_note']}**",
        "",
    ]
    if results.get("runs"):
        listed = "; ".join(
            f"{r['date']} at `{r['commit']}`" + (f" ({r['cpu']})" if "cpu" in r else "")
            for r in results["runs"]
        )
        lines += [f"Combined from separate runs (each row has its own load): {listed}.", ""]
    lines += [
        "## Workloads (real DAG, `dag.test()`)",
        "",
        "| workload | seconds | peak MiB | load before | load after | tasks (s) |",
        "|---|---:|---:|---|---|---|",
    ]
    for name, w in results["workloads"].items():
        tasks = ", ".join(f"{k} {v}" for k, v in w["detail"].get("task_seconds", {}).items())
        lines.append(
            f"| {name} | {w['seconds']} | {w['peak_rss_mib']} | {_load(w['loadavg_before'])} "
            f"| {_load(w['loadavg_after'])} | {tasks} |"
        )
    for name, w in results["workloads"].items():
        d = w["detail"]
        size = f"{d['pupils']:,} pupils in {d['schools']:,} schools, " if "pupils" in d else ""
        if "bare_duckdb" in d:
            bound = d["bare_duckdb"]
            rows = ", ".join(f"{k} {v:,}" for k, v in bound["rows_checked_equal"].items())
            lines += [
                "",
                f"{name}: {d.get('store_mark_events'):,} mark events in the store; dbt build "
                f"--full-refresh {d.get('dbt_build_full_refresh_seconds')} s; the bare DuckDB "
                f"bound on the same store {bound['seconds']} s (peak {bound['peak_rss_mib']} "
                f"MiB; rows checked equal: {rows}).",
            ]
            continue
        lines += [
            "",
            f"{name}: {size}register day {d.get('register_day')}, "
            f"{d.get('extract_mark_rows'):,} mark rows in the extracts, "
            f"{d.get('store_mark_events'):,} mark events in the store "
            f"after; rows read {d.get('ingest_rows_read'):,}, new "
            f"{d.get('ingest_rows_new'):,}, quarantined {d.get('ingest_rows_quarantined'):,}; "
            f"DAG import {d.get('load_dags_seconds')} s, DAG run {d.get('dag_run_seconds')} s."
            + (
                f" Measured runs: {', '.join(f'{s} s' for s in d['runs_seconds'])}; the figure "
                "is their median's, its peak memory the highest of them."
                if len(d.get("runs_seconds", [])) > 1
                else ""
            ),
        ]

    lines += _ingest_bounds(results["workloads"])
    for name, failure in results.get("failures", {}).items():
        lines += ["", f"{name} did not finish:", "", "```", failure.strip(), "```"]
    if results["peers"]:
        lines += [
            "",
            "## Peers: pupil_attendance and attendance_by_sen from the same event store",
            "",
            "On each workload, each peer reads the event tables as the pipeline's run left them "
            "(a Parquet export) and computes the two marts; its results are checked equal to "
            "the pipeline's before its time counts. A peer is stopped at its time or memory "
            "limit, and not run on a larger store after that.",
            "",
            "| workload | mark events | pipeline s | peer | process s | compute s | peak MiB "
            "| rows checked | load before |",
            "|---|---:|---:|---|---:|---:|---:|---|---|",
        ]
        for workload, ran in results["peers"].items():
            ours = results["workloads"].get(workload, {}).get("seconds", "")
            for name, p in ran.items():
                d = p["detail"]
                rows = ", ".join(f"{k} {v:,}" for k, v in d.get("rows_checked_equal", {}).items())
                compute = d.get("outcome") or d.get("compute_seconds")
                if "load_seconds" in d:
                    compute = (
                        f"{compute} (load {d['load_seconds']} s, queries {d['query_seconds']} s)"
                    )
                marks = d.get("store_mark_events")
                lines.append(
                    f"| {workload} | {f'{marks:,}' if marks else ''} | {ours} | {name} "
                    f"| {p['seconds'] if p['seconds'] is not None else ''} | {compute} "
                    f"| {p['peak_rss_mib'] or ''} | {rows} "
                    f"| {_load(p['loadavg_before']) if p['loadavg_before'] else ''} |"
                )
    if results.get("verdicts"):
        lines += ["", "## Targets", ""] + [f"- {v}" for v in results["verdicts"]]
    for note in results.get("notes", []):
        lines += ["", note]
    path.write_text("\n".join(lines) + "\n")


def _ingest_bounds(workloads: dict[str, Any]) -> list[str]:
    """The ingest task of each W1 and W3 morning against bare DuckDB's ingest of the same
    landing folder (`bench/ingest_bound.py`), in the same bench run."""
    bounded = {name: w for name, w in workloads.items() if "ingest_bound" in w["detail"]}
    if not bounded:
        return []
    lines = [
        "",
        "## Ingest against its bare DuckDB bound",
        "",
        "`bench/ingest_bound.py` after each measured run, on its landing folder and a copy of "
        "the pre-morning warehouse: every file read by DuckDB with declared column types (many "
        "files per `read_csv`/`read_json` call), the same row checks, only the news appended "
        "to the event tables. Its seconds run from opening the copy to the commit (the median "
        "of its runs); the ratio is the ingest task's seconds over them.",
        "",
        "| workload | rows read | ingest task s | bound s | ratio | bound runs s "
        "| new events (pipeline / bound) | bound peak MiB | load before |",
        "|---|---:|---:|---:|---:|---|---|---:|---|",
    ]
    for name, w in bounded.items():
        d, bound = w["detail"], w["detail"]["ingest_bound"]
        read = d.get("ingest_rows_read")
        read = f"{read:,}" if read is not None else ""
        ingest = d.get("task_seconds", {}).get("ingest", "")
        if "outcome" in bound:
            lines.append(f"| {name} | {read} | {ingest} | {bound['outcome']} | | | | | |")
            continue
        lines.append(
            f"| {name} | {read} | {ingest} | {d['ingest_bound_seconds']} "
            f"| {d['ingest_ratio']} | {', '.join(str(s) for s in bound['runs_seconds'])} "
            f"| {d.get('ingest_rows_new', 0):,} / {bound['rows_new']:,} "
            f"| {bound['peak_rss_mib']} | {_load(bound['loadavg_before'])} |"
        )
    return lines


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)
