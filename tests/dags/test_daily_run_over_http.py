"""The DAG's pull task: extracts served by the reference MIS feed reach the published marts."""

from pathlib import Path

import duckdb

from ingestion.http_pull import SOURCE_ENV, TOKEN_ENV, URL_ENV
from synthetic import SyntheticLA
from synthetic.mis_feed import FeedServer
from tests.support.cli import run_cli
from tests.support.extracts import deliver
from tests.support.truth.registers import expected_pupil_attendance


def test_a_run_pulls_from_the_feed_and_publishes(
    tiny_la: SyntheticLA, airflow_env: dict[str, str], tmp_path: Path
) -> None:
    feed_root, landing, warehouse = tmp_path / "feed", tmp_path / "landing", tmp_path / "out"
    deliver(tiny_la, feed_root, range(2))
    landing.mkdir()
    with FeedServer(feed_root, "test-token-123") as feed:
        env = {**airflow_env, URL_ENV: feed.url, TOKEN_ENV: "test-token-123", SOURCE_ENV: "mis"}
        result = run_cli(
            env,
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--date",
            str(tiny_la.days[1]),
        )
    assert result.returncode == 0, result.stderr[-4000:]
    served = {p.relative_to(feed_root) for p in feed_root.rglob("*.*")}
    pulled = {p.relative_to(landing / "mis") for p in (landing / "mis").rglob("*.*")}
    assert pulled == served
    with duckdb.connect() as con:
        published = con.execute(
            "select urn, upn, academic_year, possible_sessions, present_sessions "
            f"from read_parquet('{warehouse}/published/parquet/current/pupil_attendance.parquet')"
        ).fetchall()
    expected = expected_pupil_attendance(tiny_la, 1)
    assert {r[:3]: (r[3], r[4]) for r in published} == {
        key: (row["possible_sessions"], row["present_sessions"]) for key, row in expected.items()
    }
    assert "test-token-123" not in (warehouse / "airflow-run.log").read_text()
