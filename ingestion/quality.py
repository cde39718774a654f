"""Keep every audit's results: `ops.quality_runs` in the warehouse, for trends and follow-up.

The warehouse is the restricted tier: a failed expectation's sample (a few offending values,
which may include UPNs) is kept here and in the run's Data Docs, never in messages or alerts.
"""

import json
import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.duckdb_limits import connect
from ingestion.gate import AuditReport
from ingestion.publish import last_publication

# Checked before the marts at every audit: the staged event store and the current register.
UPSTREAM_TABLES = ("stg_register__mark_events", "fct_sessions")

# A mart may shrink a little from one publication to the next (pupils leave, amendments), but
# a fall of more than this share is a collapse to be looked at before it is published.
ROW_COUNT_TOLERANCE = 0.10

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


# ATTENDANCE_AUDIT=full makes every audit check whole tables (e.g. after a repair).
AUDIT_SCOPE_VARIABLE = "ATTENDANCE_AUDIT"


def audit_scope(published: Path, as_of: datetime | None) -> tuple[bool, str]:
    """Whether this audit may check only the rows new since the last publication, and why.

    The upstream suites (every stored mark event, every session of the year) grow with the
    year; the marts do not. A daily audit checks the upstream rows stored or changed since the
    last publication, which the audits before it checked; the first audit of each week (by the
    build's as_of), the first ever, and any with ATTENDANCE_AUDIT=full check everything, so a
    rule added to a suite, or a repair made in the store, is checked on the whole year within
    a week."""
    previous = last_publication(published) or {}
    if os.environ.get(AUDIT_SCOPE_VARIABLE, "").lower() == "full":
        return False, f"{AUDIT_SCOPE_VARIABLE}=full"
    if not previous.get("loaded_through") or not previous.get("as_of"):
        return False, "no earlier publication records what it checked"
    before = datetime.fromisoformat(previous["as_of"])
    if as_of is None or as_of < before:
        return False, "the build's as_of is not after the last publication's"
    if as_of.isocalendar()[:2] != before.isocalendar()[:2]:
        return False, "the first audit of the week checks whole tables"
    return True, f"rows new since the publication as of {previous['as_of']}"


def publication_parameters(published: Path, marts: Sequence[str]) -> dict[str, Any]:
    """Values for the suites' ${...} placeholders, from the last complete publication."""
    previous = last_publication(published) or {}
    rows = previous.get("rows", {})
    parameters: dict[str, Any] = {
        # Re-running a day publishes the same as_of, so "forward" means "not backwards".
        "previous_as_of": previous.get("as_of") or "0001-01-01 00:00:00+00",
        "previous_loaded_through": previous.get("loaded_through") or "0001-01-01 00:00:00+00",
    }
    for mart in marts:
        before = rows.get(mart)
        parameters[f"min_rows_{mart}"] = (
            math.floor(before * (1 - ROW_COUNT_TOLERANCE)) if before else 0
        )
    return parameters


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
