"""The tasks of the DAGs scheduled on the publication asset: exports, report, serving.

A downstream run works on the publication whose asset event triggered it (the event's extra
is the publication's record); run by hand (or by `dag.test()`), on the record of the last
publication of the warehouse its params (or ATTENDANCE_WAREHOUSE) name. Each reads only
what publication wrote, and runs under the umask of ATTENDANCE_UMASK
(warehouse/permissions.py).
"""

import logging
import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from publication.record import PublicationRecord, read_record
from warehouse.locations import Locations, resolve_locations
from warehouse.permissions import with_pipeline_umask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownstreamRun:
    """A downstream run's publication: which warehouse and register day, and its record."""

    locations: Locations
    register_day: date
    publication: PublicationRecord
    # Why this run has nothing to do (a newer publication replaced this one), else None.
    superseded: str | None


def downstream_run(context: Any) -> DownstreamRun:
    """Resolve the publication a downstream run works on: the triggering asset event's;
    without one (manual trigger, dag.test), the params `warehouse` and `register_day`, then
    ATTENDANCE_WAREHOUSE and the warehouse's last publication."""
    from pipeline.assets import latest_publication_event

    params = context.get("params") or {}
    event = latest_publication_event(context)
    if event is not None:
        locations = resolve_locations(None, event.get("warehouse") or params.get("warehouse"))
        publication = PublicationRecord.from_dict(event)
    else:
        locations = resolve_locations(None, params.get("warehouse"))
        publication = read_record(locations.published)
        if publication is None:
            raise ValueError(f"{locations.warehouse} has no publication: nothing to work on")
    day = (params.get("register_day") if event is None else None) or publication.run.register_day
    if not day:
        raise ValueError(
            "no register day: the run has no publication event, no register_day param and "
            f"the publication in {locations.published} names none"
        )
    current = read_record(locations.published)
    superseded = None
    if event is not None and current is not None and current.version != publication.version:
        superseded = (
            f"the publication of {day} ({publication.version}) was replaced by a newer one "
            f"({current.version}), whose own event runs this DAG again"
        )
    return DownstreamRun(locations, date.fromisoformat(day), publication, superseded)


@with_pipeline_umask
def exports(context: Any) -> dict[str, Any]:
    """The register day's CSV exports (serving/exports.py)."""
    from serving.exports import write_exports

    run = downstream_run(context)
    if run.superseded:
        log.info("exports not written: %s", run.superseded)
        return {"skipped": run.superseded}
    result = write_exports(
        run.locations.published, run.locations.warehouse / "exports", run.register_day
    )
    log.info("exports for %s written to %s", run.register_day, result["folder"])
    return result


@with_pipeline_umask
def report(context: Any) -> dict[str, Any]:
    """The run report (Markdown), the HTML reports per LA and school, and the targeting
    meeting pack of each school."""
    from serving.html_report import write_html_reports
    from serving.packs.targeting import write_targeting_packs
    from serving.run_report import write_report

    run = downstream_run(context)
    if run.superseded:
        log.info("report not written: %s", run.superseded)
        return {"skipped": run.superseded}
    path = write_report(run.locations, run.register_day, run.publication)
    log.info("run report for %s written to %s", run.register_day, path)
    pages = write_html_reports(
        run.locations.published / run.publication.database,
        run.locations.warehouse / "reports" / "html",
    )
    log.info("%d HTML attendance reports written to %s", len(pages), pages[0].parent)
    packs = write_targeting_packs(
        run.locations.published / run.publication.database,
        run.locations.warehouse / "reports" / "targeting",
    )
    log.info(
        "%d targeting meeting packs written to %s", len(packs), packs[0].parent if packs else "-"
    )
    return {
        "report": str(path),
        "html_reports": [str(p) for p in pages],
        "targeting_packs": [str(p) for p in packs],
        "register_day": run.register_day.isoformat(),
    }


@with_pipeline_umask
def serving(context: Any) -> dict[str, Any]:
    """The DfE-style daily extract (always), then the PostgreSQL refresh when
    ATTENDANCE_SERVING_DB_URL is set; both read only the published DuckDB file."""
    from serving.access import ROLE_PREFIX_ENV
    from serving.postgres import DSN_ENV, refresh
    from serving.pseudonyms import pseudonym_key
    from serving.public_tier import write_dfe_extract

    run = downstream_run(context)
    if run.superseded:
        log.info("serving not refreshed: %s", run.superseded)
        return {"skipped": run.superseded}
    published_db = run.locations.published / run.publication.database
    extract = write_dfe_extract(
        published_db,
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
    served = refresh(published_db, dsn, pseudonym_key(), os.environ.get(ROLE_PREFIX_ENV) or None)
    return {**result, "postgres": served.version, "rows": served.rows}
