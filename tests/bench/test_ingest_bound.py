"""`bench.ingest_bound`: bare DuckDB's ingest of a morning stores the events the pipeline's
ingest stores from the same landing folder (so its time is a lower bound of the same job, not
of a different one), on the bench's own generated extracts at the smoke size."""

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from bench.ingest_bound import ingest_bound, main
from bench.measure import Measurement
from bench.report import write_report
from bench.runners import with_ingest_bound
from bench.workloads import SCALES, build_history
from ingestion.event_store import STREAMS
from ingestion.ingest import ingest_landing
from synthetic.bulk import FORMATS, create_population, write_day_extracts

CONFIG = SCALES["smoke"].config()


def _morning(tmp_path: Path, day_number: int, history_through: int | None = None) -> Path:
    """The store before school day `day_number` (or before `history_through`) and that day's
    extracts in `tmp_path`/landing (every school, all four formats), as the bench makes them."""
    build_history(CONFIG, history_through or day_number, tmp_path / "history")
    with duckdb.connect() as con:
        create_population(con, CONFIG)
        write_day_extracts(con, CONFIG, day_number - 1, tmp_path / "landing")
    return tmp_path / "landing"


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name / "warehouse.duckdb"
    target.parent.mkdir()
    shutil.copy(tmp_path / "history" / "warehouse" / "warehouse.duckdb", target)
    return target


def _events(database: Path) -> dict[str, list[tuple]]:
    """Every stored event of each stream by its key, event columns, times and type: what the
    marts are built from (ids, load and ingestion times, provenance left out)."""
    found = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for stream in STREAMS.values():
            columns = ", ".join([*stream.columns, "transaction_time", "extracted_at", "event_type"])
            found[stream.table] = con.execute(
                f"select {columns} from {stream.table} order by all"
            ).fetchall()
    return found


@pytest.mark.parametrize("day_number", [1, 5], ids=["first morning, empty store", "day 5"])
def test_the_bound_stores_the_events_the_pipelines_ingest_stores(
    tmp_path: Path, day_number: int
) -> None:
    landing = _morning(tmp_path, day_number)
    pipeline, bound = _copy(tmp_path, "pipeline"), _copy(tmp_path, "bound")
    summary = ingest_landing(landing, pipeline)
    figures = ingest_bound(landing, bound)

    assert summary.total("rows_quarantined") == 0
    assert sum(figures[kind]["rows_invalid"] for kind in STREAMS) == 0
    assert sum(figures[kind]["rows_read"] for kind in STREAMS) == summary.total("rows_read")
    assert sum(figures[kind]["rows_new"] for kind in STREAMS) == summary.total("rows_new")
    assert figures["marks"]["rows_new"] > 0 and figures["seconds"] > 0
    # The same events, both ways (`except all`): every stream, key and state columns, times.
    with duckdb.connect() as con:
        con.execute(f"attach '{pipeline}' as pipeline (read_only)")
        con.execute(f"attach '{bound}' as bound (read_only)")
        for stream in STREAMS.values():
            columns = ", ".join([*stream.columns, "transaction_time", "extracted_at"])
            for one, other in (("pipeline", "bound"), ("bound", "pipeline")):
                (extra,) = con.execute(
                    f"select count(*) from (select {columns} from {one}.{stream.table} "
                    f"except all select {columns} from {other}.{stream.table})"
                ).fetchone()
                assert extra == 0, f"{stream.table}: {extra} events only in {one}'s store"
    assert _events(pipeline) == _events(bound)


def test_the_command_writes_its_figures_and_each_events_file_and_line(tmp_path: Path) -> None:
    landing = _morning(tmp_path, 5)
    bound = _copy(tmp_path, "bound")
    detail = tmp_path / "bound.json"
    assert main(["--landing", str(landing), "--warehouse", str(bound.parent), str(detail)]) == 0
    assert json.loads(detail.read_text())["marks"]["rows_new"] > 0
    with duckdb.connect(str(bound), read_only=True) as con:
        news = con.execute(
            "select source_file, source_line, upn, session_date, session from events.mark_events "
            "where load_id = 'ingest-bound'"
        ).fetchall()
    # Every school's marks file has news (day 5's sessions), in all four formats; each event
    # names the line of its file that holds its row.
    assert {Path(file).name for file, *_ in news} == {f"marks.{f}" for f, _, _ in FORMATS}
    lines = {}
    for file, line, upn, day, session in news:
        if file not in lines:
            opener = gzip.open if file.endswith(".gz") else open
            with opener(landing / file, "rt") as text:
                lines[file] = text.read().splitlines()
        assert all(str(v) in lines[file][line - 1] for v in (upn, day, session))


def test_a_row_older_than_the_store_stops_the_bound(tmp_path: Path) -> None:
    # The store already holds the mornings up to day 7: the day-5 extract's unresolved N marks
    # of days 4 and 5 are older than their stored resolutions, which the bound cannot place.
    landing = _morning(tmp_path, 5, history_through=8)
    with pytest.raises(duckdb.Error, match="older than its key's latest stored event"):
        ingest_bound(landing, _copy(tmp_path, "bound"))


def _bound_run(seconds: float, outcome: str | None = None) -> Measurement:
    kinds = {kind: {"rows_new": 2, "rows_invalid": 0} for kind in STREAMS}
    detail = {"outcome": outcome, "error": "log"} if outcome else {**kinds, "seconds": seconds}
    return Measurement("W1 day 5 ingest bound", seconds + 0.8, 9.0, (1, 1, 1), (1, 1, 1), detail)


def test_the_morning_records_the_median_bound_and_the_ingest_over_it(tmp_path: Path) -> None:
    morning = Measurement("W1 day 5", 40.0, 1.0, (1, 1, 1), (1, 1, 1))
    morning.detail = {"task_seconds": {"ingest": 12.0}, "ingest_rows_read": 9, "ingest_rows_new": 6}
    record = with_ingest_bound(morning, [_bound_run(5.0), _bound_run(3.0), _bound_run(4.0)])
    assert record.detail["ingest_bound_seconds"] == 4.0 and record.detail["ingest_ratio"] == 3.0
    assert record.detail["ingest_bound"]["runs_seconds"] == [5.0, 3.0, 4.0]
    assert record.detail["ingest_bound"]["rows_new"] == 6
    assert "ingest_bound" not in morning.detail

    failed = with_ingest_bound(morning, [_bound_run(5.0), _bound_run(0, "failed (exit status 1)")])
    assert "ingest_bound_seconds" not in failed.detail
    assert failed.detail["ingest_bound"]["outcome"] == "failed (exit status 1)"

    machine = {"cpus": 2, "cpu": "x", "memory_gib": 1, "python": "3.11"}
    results = {
        **{"scale": "smoke", "pupils": 400, "schools": 4, "window_days": 10, "peers": {}},
        **{"date": "d", "commit": "c", "machine": machine, "shared_machine_note": "shared"},
        "workloads": {"W1_day5": record.as_record(), "W1_day6": failed.as_record()},
    }
    for workload in results["workloads"].values():
        workload["detail"].update(
            register_day="d", extract_mark_rows=1, store_mark_events=1, ingest_rows_quarantined=0
        )
    write_report(results, tmp_path / "RESULTS.md")
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| W1_day5 | 9 | 12.0 | 4.0 | 3.0 | 5.0, 3.0, 4.0 | 6 / 6 |" in report
    assert "| W1_day6 | 9 | 12.0 | failed (exit status 1) |" in report
