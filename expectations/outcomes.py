"""What an audit found: each expectation's outcome, the report, and the messages people read.

Outcomes hold counts, never values from the table, except a few offending values kept for
the restricted-tier record (`sample`), which no message ever shows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expectations.suite import BLOCKING, UNEXPECTED_ROWS, ExpectationSpec, Severity

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

logger = logging.getLogger(__name__)

# A few offending values per failed expectation, for the restricted-tier record in
# ops.quality_runs (never for messages: a UPN identifies a pupil). Names never reach any table,
# so none can be sampled.
SAMPLE_SIZE = 5
# A "sqlalchemy.exc.ProgrammingError: ..." line of a traceback.
_EXCEPTION_LINE = re.compile(r"^(?:\w+\.)*(\w+(?:Error|Exception)):", re.MULTILINE)


class AuditFailed(Exception):
    """Publication is withheld: blocking checks failed, or the data could not be checked.

    The message is written for the school's data manager; `report` is None when the audit
    could not run at all (missing database file or table).
    """

    def __init__(self, message: str, report: AuditReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one expectation fared. Holds counts, never values from the table."""

    table: str
    expectation_type: str
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int | None
    kwargs: Mapping[str, Any]
    description: str | None = None
    # Row count and similar table-level figures, for expectations that have no unexpected rows.
    observed_value: int | float | None = None
    # Set when GX raised instead of checking, e.g. because a column is missing.
    error: str | None = None
    # Up to SAMPLE_SIZE offending values or rows (restricted: may hold UPNs). Never in messages.
    sample: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line naming the expectation and what went wrong, without any data values."""
        name = f"{self.table}: {self.expectation_type}"
        if self.column is not None:
            name += f" on {self.column}"
        arguments = _describe_kwargs(self.kwargs)
        if arguments:
            name += f" ({arguments})"
        if self.error is not None:
            found = f"could not be checked ({self.error}; the pipeline log has the details)"
        elif self.unexpected_count is not None:
            rows = "row breaks" if self.unexpected_count == 1 else "rows break"
            found = f"{self.unexpected_count} {rows} this rule"
        elif self.observed_value is not None:
            found = f"found {self.observed_value}"
        else:
            found = "failed"
        line = f"{name}: {found}."
        if self.description:
            line += f" Rule: {self.description}"
        return line

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class AuditReport:
    """Every expectation of every audited table, in suite order."""

    database: Path
    outcomes: tuple[ExpectationOutcome, ...]
    elapsed_seconds: float

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        """Failed expectations that block publication (GX's "critical")."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == BLOCKING)

    @property
    def warnings(self) -> tuple[ExpectationOutcome, ...]:
        """Failed expectations that are reported but do not block publication."""
        return tuple(o for o in self.outcomes if not o.success and o.severity != BLOCKING)

    @property
    def success(self) -> bool:
        return not self.failures


def withheld_message(report: AuditReport) -> str:
    """Why publication was withheld, naming each failed check, with counts but no pupil data."""
    count = len(report.failures)
    checks = "check" if count == 1 else "checks"
    lines = [
        f"Publication withheld: {count} blocking data quality {checks} failed in "
        f"{report.database.name}. Nothing new was published; the previous publication is "
        "still in place.",
        "",
        "Blocking problems:",
        *(f"  - {outcome.describe()}" for outcome in report.failures),
    ]
    if report.warnings:
        lines += [
            "",
            "Also found (reported only, not blocking):",
            *(f"  - {outcome.describe()}" for outcome in report.warnings),
        ]
    lines += [
        "",
        "Correct the records at source, or the step that builds these tables, then run the "
        "pipeline again. The checks are defined in expectations/suites/<table>.json.",
    ]
    return "\n".join(lines)


def outcome_of(
    table: str, spec: ExpectationSpec, result: ExpectationValidationResult
) -> ExpectationOutcome:
    details = result.result or {}
    error = _evaluation_error(result)
    if error is not None:
        # Only in the log: a database error message can quote a value from the table.
        logger.error("%s: %s could not be checked: %s: %s", table, spec.type, *error)
    if spec.type == UNEXPECTED_ROWS:
        unexpected = details.get("observed_value")
        observed = None
    else:
        unexpected = details.get("unexpected_count")
        value = details.get("observed_value")
        observed = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return ExpectationOutcome(
        table=table,
        expectation_type=spec.type,
        column=_column(spec.kwargs),
        severity=spec.severity,
        success=result.success is True and error is None,
        unexpected_count=unexpected if isinstance(unexpected, int) else None,
        kwargs=spec.kwargs,
        description=spec.description,
        observed_value=observed,
        error=None if error is None else error[0],
        sample=_sample(details) if result.success is not True else (),
    )


def _sample(details: Mapping[str, Any]) -> tuple[str, ...]:
    values = details.get("partial_unexpected_list")
    if values is None:
        values = (details.get("details") or {}).get("unexpected_rows")
    if not isinstance(values, list):
        return ()
    return tuple(str(value) for value in values[:SAMPLE_SIZE])


def _evaluation_error(result: ExpectationValidationResult) -> tuple[str, str] | None:
    """The exception GX caught instead of checking, as (type, message); None if it checked."""
    info = result.exception_info or {}
    # Expectation-level errors sit at the top; metric errors are keyed by metric id.
    candidates = [info, *(value for value in info.values() if isinstance(value, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            traceback = str(candidate.get("exception_traceback") or "")
            # The last "module.SomeError: ..." line names the exception that reached GX.
            names = _EXCEPTION_LINE.findall(traceback)
            return (names[-1] if names else "error"), str(candidate.get("exception_message"))
    return None


def _column(kwargs: Mapping[str, Any]) -> str | None:
    if isinstance(kwargs.get("column"), str):
        return kwargs["column"]
    if "column_list" in kwargs:
        return ", ".join(str(column) for column in kwargs["column_list"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs.get('column_B')}"
    return None


def _describe_kwargs(kwargs: Mapping[str, Any]) -> str:
    # The column is already named and the SQL is summarised by the description.
    shown = {
        key: value
        for key, value in kwargs.items()
        if key not in {"column", "column_list", "column_A", "column_B", "unexpected_rows_query"}
    }
    return ", ".join(f"{key}={value!r}" for key, value in shown.items())
