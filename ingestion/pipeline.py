"""The steps of the daily job, as the DAG's tasks call them.

Each step takes the run's landing and warehouse folders (None: the defaults of
`ingestion.locations`) and returns a small JSON-able record for the run's log and XCom.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from ingestion.alerts import record_alert
from ingestion.gate import AuditFailed, audit, withheld_message
from ingestion.http_pull import pull_from_environment
from ingestion.ingest import ingest_landing
from ingestion.locations import resolve_locations
from ingestion.publish import PUBLISHED_MARTS, publish
from ingestion.quality import UPSTREAM_TABLES, publication_parameters, record_quality_run
from ingestion.summary import summarise
from ingestion.transform import build_marts

log = logging.getLogger(__name__)


def record_failure(context: dict[str, Any]) -> None:
    """Failure callback: keep the failed task's reason in the warehouse's alerts file."""
    params = context.get("params") or {}
    locations = resolve_locations(params.get("landing"), params.get("warehouse"))
    task_instance = context["ti"]
    record_alert(
        locations.warehouse,
        dag_id=task_instance.dag_id,
        run_id=task_instance.run_id,
        task_id=task_instance.task_id,
        reason=str(context.get("exception") or "unknown"),
    )


def pull_step(landing: str | None, warehouse: str | None) -> dict[str, Any] | None:
    """Pull new extracts from the MIS feed named by ATTENDANCE_FEED_URL, if one is set."""
    locations = resolve_locations(landing, warehouse)
    summary = pull_from_environment(locations.landing)
    return summary.as_record() if summary else None


def ingest_step(landing: str | None, warehouse: str | None, load_id: str) -> dict[str, Any]:
    locations = resolve_locations(landing, warehouse)
    summary = ingest_landing(locations.landing, locations.warehouse_db, load_id=load_id)
    return {
        "files": len(summary.files),
        "files_already_ingested": summary.files_already_ingested,
        "rows_read": summary.total("rows_read"),
        "rows_new": summary.total("rows_new"),
        "rows_quarantined": summary.total("rows_quarantined"),
        "files_rejected": sum(f.rejected for f in summary.files),
    }


def build_step(landing: str | None, warehouse: str | None, as_of: str | None = None) -> None:
    locations = resolve_locations(landing, warehouse)
    build_marts(locations.warehouse_db, locations.work, as_of=as_of)


def audit_step(
    landing: str | None, warehouse: str | None, run_id: str | None = None
) -> dict[str, Any]:
    """Audit the candidate marts; record every result; raise AuditFailed if any blocks."""
    locations = resolve_locations(landing, warehouse)
    run_id = run_id or f"audit-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    docs = locations.warehouse / "quality" / "data_docs"
    report = audit(
        locations.warehouse_db,
        [*UPSTREAM_TABLES, *PUBLISHED_MARTS],
        parameters=publication_parameters(locations.published, PUBLISHED_MARTS),
        docs_dir=docs,
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
        "data_docs": str(docs / "index.html"),
    }


def publish_step(landing: str | None, warehouse: str | None) -> dict[str, Any]:
    locations = resolve_locations(landing, warehouse)
    publication = publish(locations.warehouse_db, locations.published)
    return {"folder": str(publication.folder), "as_of": publication.as_of, "rows": publication.rows}


def summary_step(landing: str | None, warehouse: str | None) -> str:
    text = summarise(resolve_locations(landing, warehouse)).render()
    log.info("run summary:\n%s", text)
    return text
