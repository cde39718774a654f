"""Alerts: one JSON line per problem, in WAREHOUSE/alerts.jsonl, for people and tools to read.

Kept beside the warehouse, not only in a task log, so that the reason a run failed (for
example the expectations an audit found broken) or a school's problem (its extract for the
register day did not arrive, its file was rejected) can be read and acted on later. Each
alert names the DAG run and task, the school where the problem concerns one, and why.

Kinds:
- `task_failed`: a task failed (written by the DAGs' failure callback).
- `missing_extract`: no extract taken on the register day arrived for a school the event
  store knows; the rest of the authority was still processed.
- `file_rejected`: a school's file could not be read at all and was rejected whole.
- `stale_feed`: a school's latest extract is older than the stale threshold, in school days
  it was expected open (the reason gives that age); alerted instead of `missing_extract`,
  once per school per run. No alert of a school names a pupil or repeats a row.
"""

import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from warehouse.permissions import make_folders, restricted_opener, tighten

ALERTS_FILE = "alerts.jsonl"

TASK_FAILED = "task_failed"
MISSING_EXTRACT = "missing_extract"
FILE_REJECTED = "file_rejected"
STALE_FEED = "stale_feed"


@dataclass(frozen=True)
class Alert:
    dag_id: str
    run_id: str
    task_id: str
    reason: str
    raised_at: str
    # The URN of the school the problem concerns; None when it concerns the whole run.
    school: str | None = None
    kind: str = TASK_FAILED
    # The run's register day (YYYY-MM-DD), where known.
    register_day: str | None = None
    # For a stale feed: the school days the school was expected open since its latest extract.
    school_days_old: int | None = None


def record_alert(
    warehouse: Path,
    dag_id: str,
    run_id: str,
    task_id: str,
    reason: str,
    *,
    school: str | None = None,
    kind: str = TASK_FAILED,
    register_day: str | None = None,
    school_days_old: int | None = None,
) -> Alert:
    alert = Alert(
        dag_id,
        run_id,
        task_id,
        reason,
        datetime.now(UTC).isoformat(),
        school=school,
        kind=kind,
        register_day=register_day,
        school_days_old=school_days_old,
    )
    make_folders(warehouse)
    path = warehouse / ALERTS_FILE
    with open(path, "a", encoding="utf-8", opener=restricted_opener) as alerts:
        alerts.write(json.dumps(asdict(alert)) + "\n")
    tighten(path)  # an alerts file of an older release may be open to others
    return alert


def read_alerts(warehouse: Path) -> list[Alert]:
    """Every alert recorded in `warehouse`, oldest first (older lines lack the newer fields)."""
    path = warehouse / ALERTS_FILE
    if not path.exists():
        return []
    known = {f.name for f in fields(Alert)}
    with path.open(encoding="utf-8") as alerts:
        records = [json.loads(line) for line in alerts if line.strip()]
    return [Alert(**{k: v for k, v in r.items() if k in known}) for r in records]


def alerts_for_run(warehouse: Path, run_id: str) -> list[Alert]:
    return [a for a in read_alerts(warehouse) if a.run_id == run_id]
