"""What happens when a task fails: its reason is kept as an alert beside the warehouse."""

from typing import Any

from warehouse.alerts import record_alert
from warehouse.locations import resolve_locations
from warehouse.register_days import register_day_of


def record_failure(context: dict[str, Any]) -> None:
    """Failure callback of every DAG: keep the failed task's reason (and its school, when the
    exception names one in a `urn` attribute) in the warehouse's alerts file."""
    from pipeline.assets import latest_publication_event

    params = context.get("params") or {}
    warehouse = params.get("warehouse")
    if not warehouse:
        warehouse = (latest_publication_event(context) or {}).get("warehouse")
    locations = resolve_locations(params.get("landing"), warehouse)
    task_instance = context["ti"]
    exception = context.get("exception")
    day = register_day_of(getattr(context.get("dag_run"), "logical_date", None))
    record_alert(
        locations.warehouse,
        dag_id=task_instance.dag_id,
        run_id=task_instance.run_id,
        task_id=task_instance.task_id,
        reason=str(exception or "unknown"),
        school=getattr(exception, "urn", None),
        register_day=day.isoformat() if day else None,
    )
