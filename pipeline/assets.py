"""The Airflow Assets the daily DAG publishes, and what their events carry.

`PUBLICATION` is updated once by every audited, successful publication; the downstream DAGs
(exports, report, later the PostgreSQL serving refresh) are scheduled on it. Each published
mart also has its own asset (`mart_asset`), updated in the same task, for lineage in the UI
and for a consumer that needs only one mart. A failed audit fails the run before `publish`,
so no event is emitted and nothing downstream runs.

URIs use the project's own scheme, `attendance://warehouse/published[/<mart>]`: a name for
the data, not a path, so they stay the same whichever folder or machine holds the warehouse.
Airflow accepts a scheme it has no handler for as it is (it only reserves `airflow`).

The event's `extra` (`publication_extra`) says where the publication is (the warehouse
folder) and for which register day, so a downstream run knows what to read; a downstream
task without an event (a manual trigger, `dag.test()`) falls back to its params and then
to ATTENDANCE_WAREHOUSE.
"""

from typing import Any

from airflow.sdk import Asset

from publication.publish import PUBLISHED_MARTS

GROUP = "attendance"
PUBLICATION = Asset(
    name="attendance_publication", uri="attendance://warehouse/published", group=GROUP
)


def mart_asset(mart: str) -> Asset:
    return Asset(
        name=f"attendance_mart_{mart}", uri=f"attendance://warehouse/published/{mart}", group=GROUP
    )


def publish_outlets() -> list[Asset]:
    """The publish task's outlets: the publication, then one asset per published mart."""
    return [PUBLICATION, *(mart_asset(m) for m in PUBLISHED_MARTS)]


def latest_publication_event(context: Any) -> dict[str, Any] | None:
    """The `extra` of the newest publication event that triggered this run, if any.

    Several publications can be merged into one downstream run when they come faster than
    the scheduler creates runs; the newest is what the published folder holds.
    """
    events = context.get("triggering_asset_events") or {}
    try:
        found = list(events[PUBLICATION])
    except KeyError:
        return None
    if not found:
        return None
    return dict(max(found, key=lambda event: event.timestamp).extra)


def emit_publication(outlet_events: Any, extra: dict[str, Any]) -> None:
    """Attach the publication's extra to the publish task's asset events (Airflow emits
    them when the task succeeds)."""
    outlet_events[PUBLICATION].extra.update(extra)
    for mart, rows in (extra.get("rows") or {}).items():
        outlet_events[mart_asset(mart)].extra.update(
            {
                "register_day": extra.get("register_day"),
                "warehouse": extra.get("warehouse"),
                "run_id": extra.get("run_id"),
                "as_of": extra.get("as_of"),
                "rows": rows,
                "fingerprint": (extra.get("fingerprints") or {}).get(mart),
            }
        )
