"""The steps of the daily job, as the DAG's tasks call them (downstream DAGs: `downstream.py`).

Each step takes the run's landing and warehouse folders (None: the defaults of
`ingestion.locations`), or the run's `RunInfo`, and returns a small JSON-able record for the
run's log and XCom. Every step that opens the working warehouse holds its lock
(`ingestion.warehouse_access`); the DAGs also put those tasks in the one-slot pool.

Heavy imports (dbt's runner, Great Expectations, pyarrow) are made inside the steps, so that
parsing a DAG file stays quick.
"""

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingestion.alerts import FILE_REJECTED, MISSING_EXTRACT, record_alert
from ingestion.locations import Locations, resolve_locations
from ingestion.publish import PUBLISHED_MARTS
from ingestion.warehouse_access import (
    check_build_stamp,
    clear_build_stamp,
    warehouse_lock,
    write_build_stamp,
)

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
# The last publication's asset-event extra, for downstream runs that have no event.
PUBLICATION_RECORD = "publication-event.json"


@dataclass(frozen=True)
class RunInfo:
    """What a task knows about its DAG run: ids, logical date and folders."""

    dag_id: str
    run_id: str
    task_id: str
    logical_date: datetime | None
    landing: str | None = None
    warehouse: str | None = None

    @property
    def locations(self) -> Locations:
        return resolve_locations(self.landing, self.warehouse)

    @property
    def register_day(self) -> date | None:
        """The run's register day: its logical date's day in Europe/London."""
        if self.logical_date is None:
            return None
        return self.logical_date.astimezone(LONDON).date()


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


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, LONDON)


# --- the daily DAG -------------------------------------------------------------------------


def record_failure(context: dict[str, Any]) -> None:
    """Failure callback: keep the failed task's reason (and its school, when the exception
    names one in a `urn` attribute) in the warehouse's alerts file."""
    params = context.get("params") or {}
    warehouse = params.get("warehouse")
    if not warehouse:
        from ingestion.assets import latest_publication_event

        warehouse = (latest_publication_event(context) or {}).get("warehouse")
    locations = resolve_locations(params.get("landing"), warehouse)
    task_instance = context["ti"]
    exception = context.get("exception")
    dag_run = context.get("dag_run")
    logical_date = getattr(dag_run, "logical_date", None)
    record_alert(
        locations.warehouse,
        dag_id=task_instance.dag_id,
        run_id=task_instance.run_id,
        task_id=task_instance.task_id,
        reason=str(exception or "unknown"),
        school=getattr(exception, "urn", None),
        register_day=logical_date.astimezone(LONDON).date().isoformat() if logical_date else None,
    )


def pull_step(landing: str | None, warehouse: str | None) -> dict[str, Any] | None:
    """Pull new extracts from the MIS feed named by ATTENDANCE_FEED_URL, if one is set."""
    from ingestion.http_pull import pull_from_environment

    locations = resolve_locations(landing, warehouse)
    summary = pull_from_environment(locations.landing)
    return summary.as_record() if summary else None


def ingest_step(landing: str | None, warehouse: str | None, load_id: str) -> dict[str, Any]:
    return _ingest(resolve_locations(landing, warehouse), load_id)[0]


def ingest_run(run: RunInfo) -> dict[str, Any]:
    """Ingest new extracts; a file rejected whole becomes an alert naming its school."""
    from ingestion.missing_extracts import urn_of_path

    record, rejected = _ingest(run.locations, run.run_id)
    for path, reason in rejected:
        record_alert(
            run.locations.warehouse,
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=run.task_id,
            reason=f"file {path} rejected: {reason}",
            school=urn_of_path(path),
            kind=FILE_REJECTED,
            register_day=_iso(run.register_day),
        )
    return record


def _ingest(locations: Locations, load_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    from ingestion.ingest import ingest_landing

    with warehouse_lock(locations.warehouse):
        summary = ingest_landing(locations.landing, locations.warehouse_db, load_id=load_id)
    record = {
        "files": len(summary.files),
        "files_already_ingested": summary.files_already_ingested,
        "rows_read": summary.total("rows_read"),
        "rows_new": summary.total("rows_new"),
        "rows_quarantined": summary.total("rows_quarantined"),
        "files_rejected": sum(f.rejected for f in summary.files),
    }
    return record, [(f.path, f.reason or "rejected") for f in summary.files if f.rejected]


def check_extracts_run(run: RunInfo) -> dict[str, Any]:
    """Report each known school whose extract for the register day did not arrive."""
    from ingestion.missing_extracts import check_extracts

    if run.register_day is None:
        return {"register_day": None, "missing_schools": []}
    with warehouse_lock(run.locations.warehouse):
        check = check_extracts(run.locations, run.register_day)
    for urn in check.missing:
        log.warning("missing extract: %s", check.reason(urn))
        record_alert(
            run.locations.warehouse,
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=run.task_id,
            reason=check.reason(urn),
            school=urn,
            kind=MISSING_EXTRACT,
            register_day=run.register_day.isoformat(),
        )
    return check.as_record()


def build_step(
    landing: str | None,
    warehouse: str | None,
    as_of: str | None = None,
    run_id: str | None = None,
) -> None:
    """dbt build; with `run_id`, record that the marts are that run's build."""
    locations = resolve_locations(landing, warehouse)
    with warehouse_lock(locations.warehouse):
        _build(locations, as_of, run_id)


def build_run(run: RunInfo) -> dict[str, Any]:
    """Build the marts as they stood at the end of the register day (see `cutoff_for`).

    When the current publication already reflects events after the register day (a later
    day was published), the run publishes nothing: readers never see the publication move
    back in time (the audit would refuse it too). The task is skipped, and with it audit
    and publish; no asset event, so nothing downstream runs.
    """
    locations = run.locations
    with warehouse_lock(locations.warehouse):
        reason = superseded_reason(locations, run.register_day)
        if reason:
            from airflow.sdk.exceptions import AirflowSkipException

            log.info("nothing to publish: %s", reason)
            raise AirflowSkipException(reason)
        cutoff = cutoff_for(locations, run.register_day)
        _build(locations, cutoff, run.run_id)
    return {"register_day": _iso(run.register_day), "cutoff": cutoff}


def superseded_reason(locations: Locations, register_day: date | None) -> str | None:
    """Why a run for `register_day` must not publish, or None: the current publication
    already reflects events known only after the end of that day."""
    from ingestion.publish import last_publication

    published = (last_publication(locations.published) or {}).get("as_of")
    if register_day is None or not published:
        return None
    if datetime.fromisoformat(str(published)) <= end_of_day(register_day):
        return None
    return (
        f"the current publication (as of {published}) already includes days after "
        f"{register_day.isoformat()}; publishing {register_day.isoformat()} again would "
        "move it back in time, so this run leaves it as it is"
    )


def _build(locations: Locations, as_of: str | None, run_id: str | None) -> None:
    from ingestion.transform import build_marts

    clear_build_stamp(locations.work)
    build_marts(locations.warehouse_db, locations.work, as_of=as_of)
    if run_id:
        write_build_stamp(locations.work, run_id, as_of)


def cutoff_for(locations: Locations, register_day: date | None) -> str | None:
    """The `as_of` cut-off for a build of `register_day`'s marts.

    The end of the register day (Europe/London) when the event store holds an event known
    only after it (a backfill of past days whose later extracts have already landed);
    otherwise None, every event, which gives the same marts and keeps dbt's incremental
    models incremental. Either way a run publishes what was known by the end of its register
    day, so re-running a day publishes the same marts.
    """
    from ingestion.duckdb_limits import connect

    if register_day is None:
        return None
    cutoff = end_of_day(register_day)
    with connect(locations.warehouse_db, read_only=True) as con:
        # Each column's maximum on its own: DuckDB takes it from the row groups' statistics,
        # where the maximum of an expression reads every stored event (1.4 s at day 150).
        latest = con.execute(
            "select greatest("
            + ", ".join(
                f"(select max({column}) from events.{table})"
                for table in ("school_events", "pupil_events", "mark_events")
                for column in ("transaction_time", "extracted_at")
            )
            + ")"
        ).fetchone()[0]
    if latest is None or latest <= cutoff:
        return None
    return cutoff.isoformat()


def audit_step(
    landing: str | None, warehouse: str | None, run_id: str | None = None
) -> dict[str, Any]:
    """Audit the candidate marts, whole tables; record every result; raise AuditFailed if any
    blocks."""
    locations = resolve_locations(landing, warehouse)
    with warehouse_lock(locations.warehouse):
        return _audit(locations, run_id, scoped=False)


def audit_run(run: RunInfo) -> dict[str, Any]:
    """Audit the marts this run built (never another run's build); upstream tables only for
    the rows new since the last publication, unless a whole audit is due (quality.audit_scope)."""
    locations = run.locations
    with warehouse_lock(locations.warehouse):
        check_build_stamp(locations.work, run.run_id)
        return _audit(locations, run.run_id, scoped=None)


def _audit(locations: Locations, run_id: str | None, scoped: bool | None) -> dict[str, Any]:
    from ingestion.gate import AuditFailed, audit, withheld_message
    from ingestion.quality import (
        UPSTREAM_TABLES,
        audit_scope,
        publication_parameters,
        record_quality_run,
    )

    run_id = run_id or f"audit-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    docs = locations.warehouse / "quality" / "data_docs"
    scope = "whole tables"
    if scoped is None:
        scoped, scope = audit_scope(locations.published, _built_as_of(locations))
    log.info("audit of upstream tables: %s", scope if scoped else f"whole tables ({scope})")
    report = audit(
        locations.warehouse_db,
        [*UPSTREAM_TABLES, *PUBLISHED_MARTS],
        parameters=publication_parameters(locations.published, PUBLISHED_MARTS),
        docs_dir=docs,
        scoped=scoped,
    )
    record_quality_run(locations.warehouse_db, run_id, report)
    for warning in report.warnings:
        log.warning("audit warning: %s", warning)
    if not report.success:
        raise AuditFailed(
            withheld_message(report) + f"\nData Docs of the checks: {docs / 'index.html'}",
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
    from ingestion.duckdb_limits import connect

    try:
        with connect(locations.warehouse_db, read_only=True) as con:
            return con.execute("select max(as_of) from main.int_event_horizon").fetchone()[0]
    except Exception:  # noqa: BLE001 - a missing table fails the audit itself, with its reason
        return None


def publish_step(landing: str | None, warehouse: str | None) -> dict[str, Any]:
    from ingestion.publish import publish

    locations = resolve_locations(landing, warehouse)
    with warehouse_lock(locations.warehouse):
        publication = publish(locations.warehouse_db, locations.published)
    return {"folder": str(publication.folder), "as_of": publication.as_of, "rows": publication.rows}


def publish_run(run: RunInfo, extract_check: dict[str, Any] | None) -> dict[str, Any]:
    """Publish this run's audited marts; returns the publication's asset-event extra."""
    from ingestion.exports import publication_manifest
    from ingestion.publish import publish

    locations = run.locations
    with warehouse_lock(locations.warehouse):
        # Checked under the lock: no other step can rebuild the marts until they are copied.
        stamp = check_build_stamp(locations.work, run.run_id)
        publication = publish(locations.warehouse_db, locations.published)
    manifest = publication_manifest(locations.published)
    extra = {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "register_day": _iso(run.register_day),
        "cutoff": stamp.get("as_of"),
        "warehouse": str(locations.warehouse),
        "as_of": publication.as_of,
        "version": manifest.get("version"),
        "published_at": manifest.get("published_at"),
        "rows": publication.rows,
        "fingerprints": fingerprints(publication.database, tuple(publication.rows)),
        "missing_schools": (extract_check or {}).get("missing_schools", []),
    }
    _write_json(locations.work / PUBLICATION_RECORD, extra)
    return extra


def fingerprints(database: Path, marts: tuple[str, ...]) -> dict[str, str]:
    """An order-independent digest of each published mart's rows: equal marts, equal digests."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return {
            mart: "{}:{}".format(
                *con.execute(
                    f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from main.{mart} t"
                ).fetchone()
            )
            for mart in marts
        }


def summary_step(landing: str | None, warehouse: str | None) -> str:
    from ingestion.summary import summarise

    locations = resolve_locations(landing, warehouse)
    with warehouse_lock(locations.warehouse):
        text = summarise(locations).render()
    log.info("run summary:\n%s", text)
    return text


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _write_json(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(staged, path)
