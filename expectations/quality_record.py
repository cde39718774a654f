"""Keep every audit's results: `ops.quality_runs` in the warehouse, for trends and follow-up,
and the quality pages rendered from it (`quality_docs.py`).

The warehouse is the restricted tier: a failed expectation's sample (a few offending values,
which may include UPNs) is kept here and on the quality pages, never in messages or alerts.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

from expectations.outcomes import AuditReport
from expectations.quality_docs import write_quality_pages
from warehouse.connect import connect

DDL = """
create schema if not exists ops;
create table if not exists ops.quality_runs (
    run_id varchar not null,
    checked_at timestamptz not null,
    suite varchar not null,
    expectation varchar not null,
    column_name varchar,
    severity varchar not null,
    success boolean not null,
    unexpected_count bigint,
    observed_value double,
    description varchar,
    error varchar,
    sample varchar
);
"""


def record_quality_run(
    database: Path, run_id: str, report: AuditReport, *, docs_dir: Path | None = None
) -> int:
    """Append one row per expectation of `report` to ops.quality_runs; returns the rows added.

    With `docs_dir`, the quality pages there are brought up to date with the record (this
    audit's page, the index, the last N audits kept: expectations/quality_docs.py)."""
    checked_at = datetime.now(UTC)
    rows = [
        [
            run_id,
            checked_at,
            outcome.table,
            outcome.expectation_type,
            outcome.column,
            outcome.severity,
            outcome.success,
            outcome.unexpected_count,
            outcome.observed_value,
            outcome.description,
            outcome.error,
            json.dumps(list(outcome.sample)) if outcome.sample else None,
        ]
        for outcome in report.outcomes
    ]
    with connect(database) as con:
        con.execute(DDL)
        con.executemany(
            "insert into ops.quality_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    if docs_dir is not None:
        write_quality_pages(database, docs_dir)
    return len(rows)
