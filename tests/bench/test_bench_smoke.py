"""`make bench` at a tiny size: the same workload code through the real DAG, every peer checked
equal to the pipeline's published marts, results written. No timings are asserted."""

import json
from pathlib import Path

import duckdb

from bench.run import main
from bench.workloads import SCALES
from synthetic.bulk import create_population, marks_sql


def test_smoke_bench_runs_the_dag_and_the_peers_agree(airflow_env, tmp_path: Path) -> None:
    assert (
        main(
            [
                *("--scale", "smoke", "--only", "W1,peers,W2,W3"),
                *("--work", str(tmp_path / "work"), "--out", str(tmp_path)),
            ]
        )
        == 0
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert "shared" in (tmp_path / "RESULTS.md").read_text()
    scale = SCALES["smoke"]
    assert set(results["workloads"]) == {"W1_day5", "W2_replay", "W3_200", "W3_400"}
    w1 = results["workloads"]["W1_day5"]
    assert w1["detail"]["state"] == "success"
    assert set(w1["detail"]["task_seconds"]) >= {"ingest", "build", "audit", "publish"}
    assert w1["detail"]["ingest_rows_quarantined"] == 0
    # Each morning's ingest task beside bare DuckDB's ingest of the same landing folder, in
    # the same run (bench/ingest_bound.py), which stored as many new events.
    for name in ("W1_day5", *(f"W3_{pupils}" for pupils in scale.w3_pupils)):
        detail = results["workloads"][name]["detail"]
        assert detail["ingest_bound_seconds"] > 0
        ratio = detail["task_seconds"]["ingest"] / detail["ingest_bound_seconds"]
        assert detail["ingest_ratio"] == round(ratio, 2)
        assert detail["ingest_bound"]["rows_new"] == detail["ingest_rows_new"] > 0
    assert "## Ingest against its bare DuckDB bound" in (tmp_path / "RESULTS.md").read_text()
    assert len(w1["loadavg_before"]) == 3 and w1["peak_rss_mib"] > 0
    # The peers ran on the store of each workload: the morning, the replay and the largest
    # national size.
    assert set(results["peers"]) == {"W1_day5", "W2_replay", "W3_400"}
    assert all(set(ran) == set(scale.peers) for ran in results["peers"].values())

    # Independently of the pipeline and the peers: the generator's own marks, as the day-5
    # extract shows them, give each pupil's possible sessions.
    config = scale.config()
    with duckdb.connect() as con:
        create_population(con, config)
        expected = dict(
            con.execute(
                f"""
                select upn, count(*) filter (where code not in ('X', '#', '')) from (
                    {marks_sql(config, 4, config.window(4))}
                ) group by upn
                """
            ).fetchall()
        )
    published = tmp_path / "work" / "smoke" / "w1-day5" / "run" / "warehouse" / "published"
    with duckdb.connect(str(published / "published.duckdb"), read_only=True) as con:
        got = dict(con.execute("select upn, possible_sessions from pupil_attendance").fetchall())
    assert got == expected
    for peer in results["peers"]["W1_day5"].values():
        assert peer["detail"]["rows_checked_equal"]["pupil_attendance"] == len(expected)

    # W3, the national first morning, at two sizes: every mark of the day's extracts is a new
    # event of the empty store, and the verdict names the largest size that fitted.
    for pupils in scale.w3_pupils:
        w3 = results["workloads"][f"W3_{pupils}"]["detail"]
        assert w3["state"] == "success" and w3["pupils"] == pupils
        assert w3["store_mark_events"] == w3["extract_mark_rows"] > 0
    assert "the largest size that fits the targets is 400 pupils" in "\n".join(results["verdicts"])

    # W2, the replay of the whole year, and its bare DuckDB bound agree on every enrolment with
    # a possible session in the year, counted from the generator's marks.
    with duckdb.connect() as con:
        create_population(con, config)
        last = len(config.days) - 1
        enrolled = con.execute(
            f"""
            select count(distinct upn) from ({marks_sql(config, last, range(0, last + 1))})
            where code not in ('X', '#', '')
            """
        ).fetchone()[0]
    w2 = results["workloads"]["W2_replay"]["detail"]
    assert w2["bare_duckdb"]["rows_checked_equal"]["pupil_attendance"] == enrolled
    for peer in results["peers"]["W2_replay"].values():
        assert peer["detail"]["rows_checked_equal"]["pupil_attendance"] == enrolled
    assert w2["store_mark_events"] >= config.pupils * 2 * len(config.days) * 0.9
