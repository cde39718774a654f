"""Keep every audit's results: `ops.quality_runs` in the warehouse, for trends and follow-up.

The warehouse is the restricted tier: a failed expectation's sample (a few offending values,
which may include UPNs) is kept here and in the run's Data Docs, never in messages or alerts.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

from expectations.outcomes import AuditReport
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


def record_quality_run(database: Path, run_id: str, report: AuditReport) -> int:
    """Append one row per expectation of `report` to ops.quality_runs; returns the rows added."""
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
    return len(rows)
