"""The daily DAG's tasks: one function each, called by the task and by nothing else's twin.

Each takes the run's `RunInfo` (pipeline/run_info.py) and returns a small JSON-able record
for the run's log and XCom; tests, the bench and the CLI call the same functions. Every
step that opens the working warehouse holds its lock (warehouse/lock.py); the DAG also
puts those tasks in the one-slot pool (pipeline/pool.py). Each runs under the umask of
ATTENDANCE_UMASK (warehouse/permissions.py): what it writes is not open to other users.

Heavy imports (dbt's runner, Great Expectations, pyarrow) are made inside the steps, so that
parsing a DAG file stays quick.
"""

import logging
from datetime import datetime
from typing import Any

from pipeline.run_info import RunInfo
from publication.previous_list import previous_support_list
from publication.record import PublicationRecord, PublishingRun, read_record
from warehouse.alerts import FILE_REJECTED, MISSING_EXTRACT, STALE_FEED, record_alert
from warehouse.build_stamp import check_build_stamp, clear_build_stamp, write_build_stamp
from warehouse.locations import Locations
from warehouse.lock import warehouse_lock
from warehouse.permissions import with_pipeline_umask
from warehouse.register_days import end_of_day

log = logging.getLogger(__name__)


@with_pipeline_umask
def pull(run: RunInfo) -> dict[str, Any] | None:
    """Pull new extracts from the MIS feed named by ATTENDANCE_FEED_URL, if one is set."""
    from ingestion.http_pull import pull_from_environment

    summary = pull_from_environment(run.locations.landing)
    return summary.as_record() if summary else None


@with_pipeline_umask
def ingest(run: RunInfo) -> dict[str, Any]:
    """Ingest new extracts; a file rejected whole becomes an alert naming its school."""
    from ingestion.ingest import ingest_landing
    from ingestion.landing import urn_of_path

    locations = run.locations
    with warehouse_lock(locations.warehouse):
        summary = ingest_landing(locations.landing, locations.warehouse_db, load_id=run.run_id)
    for rejected in (f for f in summary.files if f.rejected):
        record_alert(
            locations.warehouse,
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=run.task_id,
            reason=f"file {rejected.path} rejected: {rejected.reason or 'rejected'}",
            school=urn_of_path(rejected.path),
            kind=FILE_REJECTED,
            register_day=_iso(run.register_day),
        )
    return {
        "files": len(summary.files),
        "files_already_ingested": summary.files_already_ingested,
        "rows_read": summary.total("rows_read"),
        "rows_new": summary.total("rows_new"),
        "rows_quarantined": summary.total("rows_quarantined"),
        "files_rejected": sum(f.rejected for f in summary.files),
    }


@with_pipeline_umask
def check_extracts(run: RunInfo) -> dict[str, Any]:
    """Report each known school whose extract for a register day it was expected open did
    not arrive, or whose feed is stale (one alert per school)."""
    from ingestion.missing_extracts import check_extracts as compare_extracts

    if run.register_day is None:
        return {"register_day": None, "missing_schools": []}
    with warehouse_lock(run.locations.warehouse):
        check = compare_extracts(run.locations, run.register_day)
    for urn in check.alerted:
        log.warning("school feed: %s", check.reason(urn))
        record_alert(
            run.locations.warehouse,
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=run.task_id,
            reason=check.reason(urn),
            school=urn,
            kind=STALE_FEED if urn in check.stale else MISSING_EXTRACT,
            register_day=run.register_day.isoformat(),
            school_days_old=check.stale.get(urn),
        )
    return check.as_record()


@with_pipeline_umask
def build(run: RunInfo) -> dict[str, Any]:
    """Build the marts as they stood at the end of the register day (see `cutoff_for`), and
    record that they are this run's build.

    When the current publication already reflects events after the register day (a later
    day was published), the run publishes nothing: readers never see the publication move
    back in time (the audit would refuse it too). The task is skipped, and with it audit
    and publish; no asset event, so nothing downstream runs.
    """
    from pipeline.marts import build_marts

    locations = run.locations
    with warehouse_lock(locations.warehouse):
        reason = superseded_reason(read_record(locations.published), run)
        if reason:
            from airflow.sdk.exceptions import AirflowSkipException

            log.info("nothing to publish: %s", reason)
            raise AirflowSkipException(reason)
        cutoff = cutoff_for(locations, run)
        clear_build_stamp(locations.work)
        # The action list marks what is new since the list readers last received.
        previous = previous_support_list(locations.published, run.register_day)
        build_marts(
            locations.warehouse_db, locations.work, cutoff=cutoff, previous_support_list=previous
        )
        write_build_stamp(locations.work, run.run_id, cutoff)
    return {"register_day": _iso(run.register_day), "cutoff": cutoff}


def superseded_reason(published: PublicationRecord | None, run: RunInfo) -> str | None:
    """Why `run` must not publish, or None: the current publication already reflects events
    known only after the end of the run's register day."""
    day = run.register_day
    if day is None or published is None or not published.as_of:
        return None
    if datetime.fromisoformat(published.as_of) <= end_of_day(day):
        return None
    return (
        f"the current publication (as of {published.as_of}) already includes days after "
        f"{day.isoformat()}; publishing {day.isoformat()} again would "
        "move it back in time, so this run leaves it as it is"
    )


def cutoff_for(locations: Locations, run: RunInfo) -> str | None:
    """The transaction-time cut-off of a build of the run's register day.

    The end of the register day (Europe/London) when the event store holds an event known
    only after it (a backfill of past days whose later extracts have already landed);
    otherwise None, every event, which gives the same marts and keeps dbt's incremental
    models incremental. Either way a run publishes what was known by the end of its register
    day, so re-running a day publishes the same marts.
    """
    from warehouse.connect import connect

    if run.register_day is None:
        return None
    cutoff = end_of_day(run.register_day)
    with connect(locations.warehouse_db, read_only=True) as con:
        # Each column's maximum on its own: DuckDB takes it from the row groups' statistics,
        # where the maximum of an expression reads every stored event (1.4 s at day 150).
        # School events are left out, as from as_of: without a stamped folder their time is a
        # file's modification time, and a copy made today would cut off every school row.
        latest = con.execute(
            "select greatest("
            + ", ".join(
                f"(select max({column}) from events.{table})"
                for table in ("pupil_events", "mark_events")
                for column in ("transaction_time", "extracted_at")
            )
            + ")"
        ).fetchone()[0]
    if latest is None or latest <= cutoff:
        return None
    return cutoff.isoformat()


@with_pipeline_umask
def audit(run: RunInfo) -> dict[str, Any]:
    """Audit the marts this run built (never another run's build): upstream tables only for
    the rows new since the last publication unless a whole audit is due
    (expectations/scope.py), the marts whole. Every result is recorded; AuditFailed is
    raised when a blocking check fails."""
    from expectations.checkpoint import AuditFailed, withheld_message
    from expectations.checkpoint import audit as run_checkpoint
    from expectations.quality_record import record_quality_run
    from expectations.scope import UPSTREAM_TABLES, audit_scope, publication_parameters
    from publication.publish import PUBLISHED_MARTS

    locations = run.locations
    docs = locations.warehouse / "quality" / "data_docs"
    with warehouse_lock(locations.warehouse):
        check_build_stamp(locations.work, run.run_id)
        previous = read_record(locations.published)
        previous_facts = previous.as_dict() if previous else None
        scoped, scope = audit_scope(previous_facts, _built_as_of(locations))
        log.info("audit of upstream tables: %s", scope if scoped else f"whole tables ({scope})")
        report = run_checkpoint(
            locations.warehouse_db,
            [*UPSTREAM_TABLES, *PUBLISHED_MARTS],
            parameters=publication_parameters(previous_facts, PUBLISHED_MARTS),
            scoped=scoped,
        )
        record_quality_run(locations.warehouse_db, run.run_id, report, docs_dir=docs)
    for warning in report.warnings:
        log.warning("audit warning: %s", warning)
    if not report.success:
        raise AuditFailed(
            withheld_message(report) + f"\nThe quality page of the checks: {docs / 'index.html'}",
            report,
        )
    return {
        "expectations": len(report.outcomes),
        "warnings": len(report.warnings),
        "upstream_scope": scope if scoped else "whole tables",
        "data_docs": str(docs / "index.html"),
    }


def _built_as_of(locations: Locations) -> datetime | None:
    """The as_of of the candidate marts (None if they cannot be read: the audit will say why)."""
    from warehouse.connect import connect

    try:
        with connect(locations.warehouse_db, read_only=True) as con:
            return con.execute("select max(as_of) from main.int_event_horizon").fetchone()[0]
    except Exception:  # noqa: BLE001 - a missing table fails the audit itself, with its reason
        return None


@with_pipeline_umask
def publish(run: RunInfo, extract_check: dict[str, Any] | None) -> dict[str, Any]:
    """Publish this run's audited marts; returns the publication's record, which is also the
    asset event's extra."""
    from publication.publish import publish as publish_marts

    locations = run.locations
    with warehouse_lock(locations.warehouse):
        # Checked under the lock: no other step can rebuild the marts until they are copied.
        stamp = check_build_stamp(locations.work, run.run_id)
        publishing = PublishingRun(
            dag_id=run.dag_id,
            run_id=run.run_id,
            register_day=_iso(run.register_day),
            cutoff=stamp.get("cutoff"),
            warehouse=str(locations.warehouse),
            missing_schools=tuple((extract_check or {}).get("missing_schools", ())),
        )
        publication = publish_marts(locations.warehouse_db, locations.published, publishing)
    return publication.record.as_dict()


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None
