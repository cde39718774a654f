"""Airflow's own asset-event objects, made without running a DAG: what a task's context
holds as `triggering_asset_events` (a downstream run) and `outlet_events` (the publish task).
"""

from datetime import datetime
from typing import Any

from airflow.sdk import Asset
from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
from airflow.sdk.execution_time.context import (
    OutletEventAccessors,
    TriggeringAssetEventsAccessor,
)

from pipeline.assets import PUBLICATION


def asset_event(
    extra: dict[str, Any], timestamp: datetime, asset: Asset = PUBLICATION
) -> AssetEventDagRunReferenceResult:
    """An event of `asset` (default: the publication) emitted at `timestamp` with `extra`."""
    return AssetEventDagRunReferenceResult(
        asset={"name": asset.name, "uri": asset.uri, "extra": {}},
        extra=extra,
        source_task_id="publish",
        source_dag_id="attendance_daily",
        source_run_id=str(extra.get("run_id") or "manual"),
        source_map_index=-1,
        source_aliases=[],
        timestamp=timestamp,
    )


def triggered_by(*events: AssetEventDagRunReferenceResult) -> TriggeringAssetEventsAccessor:
    """The `triggering_asset_events` of a run that these events triggered."""
    return TriggeringAssetEventsAccessor.build(events)


def outlet_events() -> OutletEventAccessors:
    """The publish task's `outlet_events`, before it adds anything to them."""
    return OutletEventAccessors()
