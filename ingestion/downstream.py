"""The steps of the DAGs scheduled on the publication asset (exports, report).

A downstream run works on the publication whose asset event triggered it; run by hand (or
by `dag.test()`), on the params or the warehouse's last publication record.
"""

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from ingestion.locations import Locations, resolve_locations
from ingestion.pipeline import PUBLICATION_RECORD
from ingestion.warehouse_access import warehouse_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownstreamRun:
    """A downstream run's publication: which warehouse and register day, and its event."""

    locations: Locations
    register_day: date
    publication: dict[str, Any]
    # Why this run has nothing to do (a newer publication replaced this one), else None.
    superseded: str | None


def downstream_run(context: Any) -> DownstreamRun:
    """Resolve the publication a downstream run works on: the triggering asset event's extra;
    without one (manual trigger, dag.test), the params `warehouse` and `register_day`, then
    ATTENDANCE_WAREHOUSE and the warehouse's last publication."""
    from ingestion.assets import latest_publication_event
    from ingestion.exports import publication_manifest

    params = context.get("params") or {}
    event = latest_publication_event(context)
    if event is not None:
        locations = resolve_locations(None, event.get("warehouse") or params.get("warehouse"))
        publication = event
    else:
        locations = resolve_locations(None, params.get("warehouse"))
        record = locations.work / PUBLICATION_RECORD
        publication = json.loads(record.read_text()) if record.exists() else {}
    day = params.get("register_day") if event is None else None
    day = day or publication.get("register_day")
    if not day:
        raise ValueError(
            "no register day: the run has no publication event, no register_day param and "
            f"{locations.warehouse} has no publication record"
        )
    current = publication_manifest(locations.published)
    superseded = None
    if event is not None and _identity(current) not in (None, _identity(event)):
        superseded = (
            f"the publication of {day} ({_identity(event)}) was replaced by a newer one "
            f"({_identity(current)}), whose own event runs this DAG again"
        )
    return DownstreamRun(locations, date.fromisoformat(day), publication, superseded)


def exports_run(context: Any) -> dict[str, Any]:
    from ingestion.exports import write_exports

    run = downstream_run(context)
    if run.superseded:
        log.info("exports not written: %s", run.superseded)
        return {"skipped": run.superseded}
    result = write_exports(
        run.locations.published, run.locations.warehouse / "exports", run.register_day
    )
    log.info("exports for %s written to %s", run.register_day, result["folder"])
    return result


def report_run(context: Any) -> dict[str, Any]:
    from ingestion.reports import write_report

    run = downstream_run(context)
    if run.superseded:
        log.info("report not written: %s", run.superseded)
        return {"skipped": run.superseded}
    with warehouse_lock(run.locations.warehouse):
        path = write_report(run.locations, run.register_day, run.publication)
    log.info("run report for %s written to %s", run.register_day, path)
    from ingestion.html_report import write_html_reports
    from ingestion.publish import PUBLISHED_DB

    pages = write_html_reports(
        run.locations.published / PUBLISHED_DB, run.locations.warehouse / "reports" / "html"
    )
    log.info("%d HTML attendance reports written to %s", len(pages), pages[0].parent)
    return {
        "report": str(path),
        "html_reports": [str(p) for p in pages],
        "register_day": run.register_day.isoformat(),
    }


def _identity(publication: dict[str, Any]) -> str | None:
    """What tells two publications apart: their version, else when they were published."""
    return publication.get("version") or publication.get("published_at")


def serving_run(context: Any) -> dict[str, Any]:
    """The DfE-style daily extract (always), then the PostgreSQL refresh when
    ATTENDANCE_SERVING_DB_URL is set; both read only the published DuckDB file."""
    import os

    import duckdb

    from ingestion.pseudonyms import pseudonym_key
    from ingestion.public_tier import dfe_daily_rows, read_rows, write_csv
    from ingestion.publish import PUBLISHED_DB
    from ingestion.serving import DSN_ENV, refresh

    run = downstream_run(context)
    if run.superseded:
        log.info("serving not refreshed: %s", run.superseded)
        return {"skipped": run.superseded}
    published_db = run.locations.published / PUBLISHED_DB
    with duckdb.connect(str(published_db), read_only=True) as con:
        daily = read_rows(con, "school_daily_attendance", "urn, session_date")
        reasons = read_rows(con, "school_daily_reasons", "urn, session_date, register_code")
    extract = write_csv(
        dfe_daily_rows(daily, reasons),
        run.locations.warehouse / "extracts" / f"dfe_daily_attendance_{run.register_day}.csv",
    )
    result: dict[str, Any] = {"dfe_extract": str(extract)}
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        log.warning(
            "PostgreSQL serving skipped: %s is not set (docs/bi.md). The DfE extract was "
            "written to %s.",
            DSN_ENV,
            extract,
        )
        return {**result, "postgres": "skipped: no DSN"}
    served = refresh(published_db, dsn, pseudonym_key())
    return {**result, "postgres": served.version, "rows": served.rows}
