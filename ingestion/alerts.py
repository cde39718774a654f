"""Alerts: one JSON line per failed task, in WAREHOUSE/alerts.jsonl, for people and tools to read.

Written by the DAG's failure callback, so the reason a run failed (for example the
expectations an audit found broken) is kept beside the warehouse, not only in a task log.
"""

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ALERTS_FILE = "alerts.jsonl"


@dataclass(frozen=True)
class Alert:
    dag_id: str
    run_id: str
    task_id: str
    reason: str
    raised_at: str


def record_alert(warehouse: Path, dag_id: str, run_id: str, task_id: str, reason: str) -> Alert:
    alert = Alert(dag_id, run_id, task_id, reason, datetime.now(UTC).isoformat())
    warehouse.mkdir(parents=True, exist_ok=True)
    with (warehouse / ALERTS_FILE).open("a", encoding="utf-8") as alerts:
        alerts.write(json.dumps(asdict(alert)) + "\n")
    return alert


def alerts_for_run(warehouse: Path, run_id: str) -> list[Alert]:
    path = warehouse / ALERTS_FILE
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as alerts:
        records = [json.loads(line) for line in alerts if line.strip()]
    return [Alert(**r) for r in records if r["run_id"] == run_id]
