"""Alerts: one JSON line each in WAREHOUSE/alerts.jsonl, read back whole and by run, including
lines written before the newer fields existed."""

import json
from datetime import datetime
from pathlib import Path

from warehouse.alerts import (
    ALERTS_FILE,
    FILE_REJECTED,
    MISSING_EXTRACT,
    TASK_FAILED,
    Alert,
    alerts_for_run,
    read_alerts,
    record_alert,
)


def test_alerts_are_read_back_as_recorded_oldest_first(tmp_path: Path) -> None:
    warehouse = tmp_path / "not-yet-created"
    recorded = [
        record_alert(warehouse, "attendance_daily", "run-1", "audit", "expectations failed"),
        record_alert(
            warehouse,
            "attendance_daily",
            "run-1",
            "check_extracts",
            "no extract taken on 2025-09-04 arrived for school 100008",
            school="100008",
            kind=MISSING_EXTRACT,
            register_day="2025-09-04",
        ),
        record_alert(
            warehouse,
            "attendance_daily",
            "run-2",
            "ingest",
            "file rejected: it is not UTF-8",
            school="100015",
            kind=FILE_REJECTED,
        ),
    ]
    assert read_alerts(warehouse) == recorded
    assert recorded[0].kind == TASK_FAILED and recorded[0].school is None
    assert len((warehouse / ALERTS_FILE).read_text().splitlines()) == 3
    assert datetime.fromisoformat(recorded[0].raised_at).tzinfo is not None


def test_alerts_of_a_run_are_that_runs_only(tmp_path: Path) -> None:
    for run_id, task_id in (("run-1", "ingest"), ("run-2", "audit"), ("run-1", "publish")):
        record_alert(tmp_path, "attendance_daily", run_id, task_id, "failed")
    assert [a.task_id for a in alerts_for_run(tmp_path, "run-1")] == ["ingest", "publish"]
    assert [a.task_id for a in alerts_for_run(tmp_path, "run-2")] == ["audit"]
    assert alerts_for_run(tmp_path, "run-3") == []


def test_a_warehouse_without_alerts_has_none(tmp_path: Path) -> None:
    assert read_alerts(tmp_path) == []


def test_older_lines_without_the_newer_fields_and_newer_lines_with_more_still_read(
    tmp_path: Path,
) -> None:
    older = {
        "dag_id": "attendance_daily",
        "run_id": "old",
        "task_id": "audit",
        "reason": "failed",
        "raised_at": "2025-09-01T17:00:00+00:00",
    }
    newer = {**older, "run_id": "new", "kind": MISSING_EXTRACT, "severity": "high"}
    (tmp_path / ALERTS_FILE).write_text(
        json.dumps(older) + "\n\n" + json.dumps(newer) + "\n", encoding="utf-8"
    )
    record_alert(tmp_path, "attendance_daily", "current", "ingest", "failed")
    alerts = read_alerts(tmp_path)
    assert [a.run_id for a in alerts] == ["old", "new", "current"]
    assert alerts[0] == Alert(**older)
    assert (alerts[0].kind, alerts[0].school, alerts[0].register_day) == (TASK_FAILED, None, None)
    assert alerts[1].kind == MISSING_EXTRACT
