"""What a task knows about its DAG run: ids, register day and folders.

Every function a DAG task calls takes a `RunInfo`; tests, the bench and the CLI make one
with `RunInfo.for_day` and call the same functions.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from warehouse.locations import Locations, resolve_locations
from warehouse.register_days import logical_date_for, register_day_of


@dataclass(frozen=True)
class RunInfo:
    dag_id: str
    run_id: str
    task_id: str
    logical_date: datetime | None
    # The run's folders (None: ATTENDANCE_LANDING / ATTENDANCE_WAREHOUSE, then var/).
    landing: str | None = None
    warehouse: str | None = None

    @property
    def locations(self) -> Locations:
        return resolve_locations(self.landing, self.warehouse)

    @property
    def register_day(self) -> date | None:
        """The run's register day: its logical date's day in Europe/London."""
        return register_day_of(self.logical_date)

    @classmethod
    def for_day(
        cls,
        register_day: date | None,
        *,
        landing: str | None = None,
        warehouse: str | None = None,
        run_id: str = "manual",
        dag_id: str = "attendance_daily",
        task_id: str = "manual",
    ) -> "RunInfo":
        """A run outside Airflow (tests, the bench) for `register_day` (None: no day)."""
        logical_date = logical_date_for(register_day) if register_day else None
        return cls(dag_id, run_id, task_id, logical_date, landing, warehouse)


def run_info(context: Any) -> RunInfo:
    """The RunInfo of the task whose Airflow context this is."""
    ti = context["ti"]
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    logical_date = getattr(dag_run, "logical_date", None) or context.get("logical_date")
    return RunInfo(
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        logical_date=logical_date,
        landing=params.get("landing"),
        warehouse=params.get("warehouse"),
    )
