"""Quality gate for published marts: Great Expectations suites run against the DuckDB warehouse.

Each published table has a suite in `expectations/suites/<table>.json`:

    {
      "name": "pupil_attendance",
      "table": "pupil_attendance",
      "description": "optional, for people reading the file",
      "expectations": [
        {
          "type": "expect_column_values_to_be_between",
          "kwargs": {"column": "possible_sessions", "min_value": 1},
          "severity": "error",
          "description": "optional, but required for unexpected_rows_expectation"
        },
        {
          "type": "unexpected_rows_expectation",
          "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE ..."},
          "severity": "warning",
          "description": "What the query finds, in words a data manager can act on"
        }
      ]
    }

A suite may also name the rows a daily audit needs to check, as a SQL condition in "rows" (the
rows that are new since the last publication, with ${...} parameters); `audit(scoped=True)`
checks only those, any other audit the whole table.

`type` is any GX 1.x expectation, by its snake_case name, and `kwargs` are its arguments. An
expectation of severity "error" blocks publication when it fails; "warning" is only reported.
In an `unexpected_rows_query`, `{batch}` stands for the table and a literal brace is doubled
(`{{`), because GX fills the query in with `str.format`.

The checks run as SQL inside DuckDB, on the warehouse file opened read-only; no table is loaded
into Python.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import sqlalchemy as sa

from ingestion.duckdb_limits import settings as duckdb_settings
from ingestion.gx_duckdb import enable_duckdb_for_gx
from ingestion.gx_templates import share_compiled_templates
from ingestion.paths import SUITES_DIR

if TYPE_CHECKING:
    from great_expectations import ValidationDefinition
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.expectations.expectation import Expectation

logger = logging.getLogger(__name__)

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
UNEXPECTED_ROWS = "unexpected_rows_expectation"

_SUITE_KEYS = {"name", "table", "description", "rows", "expectations"}
_EXPECTATION_KEYS = {"type", "kwargs", "severity", "description"}
# Set by the gate, so a suite cannot set them in kwargs: severity and description come from the
# entry, and a result_format of its own could make GX return values from the table.
_RESERVED_KWARGS = {
    "severity",
    "description",
    "result_format",
    "meta",
    "notes",
    "id",
    "catch_exceptions",
}

# A few offending values per failed expectation, for the restricted-tier record in
# ops.quality_runs (never for messages: a UPN identifies a pupil). Names never reach any table,
# so none can be sampled.
SAMPLE_SIZE = 5
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
# Suite parameters: a kwarg value "${name}" or "${name:default}" is replaced whole, and such a
# placeholder inside an unexpected_rows_query is replaced in the text, by the value the caller
# passes for `name` (else the default; a whole-value default that reads as a number is one).
_PARAMETER = re.compile(r"\$\{([a-z_][a-z0-9_]*)(?::([^}]*))?\}")
# A "sqlalchemy.exc.ProgrammingError: ..." line of a traceback.
_EXCEPTION_LINE = re.compile(r"^(?:\w+\.)*(\w+(?:Error|Exception)):", re.MULTILINE)


class SuiteError(ValueError):
    """An expectation suite file is missing or malformed: a problem for the pipeline's engineers."""


class AuditFailed(Exception):
    """Publication is withheld: blocking checks failed, or the data could not be checked.

    The message is written for the school's data manager; `report` is None when the audit
    could not run at all (missing database file or table).
    """

    def __init__(self, message: str, report: AuditReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ExpectationSpec:
    """One entry of a suite file."""

    type: str
    kwargs: Mapping[str, Any]
    severity: Severity
    description: str | None = None


@dataclass(frozen=True)
class Suite:
    """A suite file: the expectations one table must meet before it is published."""

    name: str
    table: str
    expectations: tuple[ExpectationSpec, ...]
    path: Path
    # A SQL condition selecting the rows a scoped (daily) audit checks; None: the whole table.
    rows: str | None = None


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
        """Failed expectations that block publication."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == "error")

    @property
    def warnings(self) -> tuple[ExpectationOutcome, ...]:
        """Failed expectations that are reported but do not block publication."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == "warning")

    @property
    def success(self) -> bool:
        return not self.failures


def load_suite(table: str, suites_dir: Path = SUITES_DIR) -> Suite:
    """Read and check the suite file for `table`; SuiteError says what is wrong with it."""
    path = suites_dir / f"{table}.json"
    if not path.is_file():
        raise SuiteError(
            f"No expectation suite for table {table!r}: expected {path}. Every published table "
            "needs one, so that the gate has something to check."
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise SuiteError(f"{path} must hold a JSON object with name, table and expectations")
    _reject_unknown_keys(raw, _SUITE_KEYS, where=str(path))
    name, suite_table = raw.get("name"), raw.get("table")
    if not isinstance(name, str) or not name:
        raise SuiteError(f"{path} needs a non-empty string 'name'")
    if suite_table != table:
        raise SuiteError(f"{path} checks table {suite_table!r}, but is the suite for {table!r}")
    entries = raw.get("expectations")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{path} needs a non-empty list 'expectations'")
    specs = tuple(
        _parse_expectation(entry, where=f"{path}, expectation {number}")
        for number, entry in enumerate(entries, start=1)
    )
    rows = raw.get("rows")
    if rows is not None and (not isinstance(rows, str) or not rows.strip()):
        raise SuiteError(f"{path}: 'rows' must be a SQL condition, such as \"ingested_at > ...\"")
    return Suite(name=name, table=table, expectations=specs, path=path, rows=rows)


def audit(
    database: Path,
    tables: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    parameters: Mapping[str, Any] | None = None,
    docs_dir: Path | None = None,
    scoped: bool = False,
) -> AuditReport:
    """Run each table's suite against the DuckDB file, through one GX Checkpoint.

    `parameters` fill the suites' "${name}" placeholders (e.g. the previous publication's row
    counts). With `docs_dir`, GX Data Docs for the run are built there (index.html). With
    `scoped`, a suite that names its "rows" checks only those rows.

    The file is opened read-only, and every connection GX opened is closed before this
    returns, so that the pipeline can open it for writing straight after.
    """
    started = time.perf_counter()
    database = Path(database).resolve()
    if not database.is_file():
        raise AuditFailed(
            f"Publication withheld: the warehouse file {database} does not exist, so nothing "
            "could be checked. The previous publication is still in place."
        )
    wanted = list(dict.fromkeys(tables))
    if not wanted:
        raise ValueError("audit needs at least one table: a gate that checks nothing must not pass")
    suites = [load_suite(table, suites_dir) for table in wanted]
    if not scoped:
        suites = [replace(suite, rows=None) for suite in suites]
    suites = [_with_parameters(suite, parameters or {}) for suite in suites]

    enable_duckdb_for_gx()
    outcomes = _run_checkpoint(database, suites, docs_dir)
    report = AuditReport(
        database=database,
        outcomes=outcomes,
        elapsed_seconds=time.perf_counter() - started,
    )
    logger.info(
        "Audited %s%s in %s: %d expectations, %d blocking failures, %d warnings, %.2fs",
        ", ".join(wanted),
        " (new rows only: " + ", ".join(s.table for s in suites if s.rows) + ")"
        if any(s.rows for s in suites)
        else "",
        database,
        len(outcomes),
        len(report.failures),
        len(report.warnings),
        report.elapsed_seconds,
    )
    return report


def audit_or_raise(
    database: Path,
    tables: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    parameters: Mapping[str, Any] | None = None,
    docs_dir: Path | None = None,
) -> AuditReport:
    """Audit, and raise AuditFailed, for the data manager, unless the tables may be published.

    Returns the report when nothing blocks publication, so that warnings can still be shown.
    """
    report = audit(
        database, tables, suites_dir=suites_dir, parameters=parameters, docs_dir=docs_dir
    )
    if not report.success:
        raise AuditFailed(withheld_message(report), report)
    return report


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


def _with_parameters(suite: Suite, parameters: Mapping[str, Any]) -> Suite:
    """The suite with its "${name}" placeholders filled; SuiteError names a missing one."""

    def value_of(match: re.Match[str], where: str) -> Any:
        name, default = match.group(1), match.group(2)
        if name in parameters:
            return parameters[name]
        if default is None:
            raise SuiteError(f"{where}: no value was given for the parameter {name!r}")
        try:
            return int(default)
        except ValueError:
            return default

    def fill(value: Any, where: str) -> Any:
        if not isinstance(value, str):
            return value
        whole = _PARAMETER.fullmatch(value)
        if whole:
            return value_of(whole, where)
        return _PARAMETER.sub(lambda m: str(value_of(m, where)), value)

    filled = tuple(
        replace(
            spec,
            kwargs={k: fill(v, f"{suite.path}, {spec.type}") for k, v in spec.kwargs.items()},
        )
        for spec in suite.expectations
    )
    rows = fill(suite.rows, f"{suite.path}, rows") if suite.rows else None
    return replace(suite, expectations=filled, rows=rows)


def _parse_expectation(entry: object, *, where: str) -> ExpectationSpec:
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: must be a JSON object with type, kwargs and severity")
    _reject_unknown_keys(entry, _EXPECTATION_KEYS, where=where)
    expectation_type, kwargs = entry.get("type"), entry.get("kwargs", {})
    severity, description = entry.get("severity"), entry.get("description")
    if not isinstance(expectation_type, str) or not expectation_type:
        raise SuiteError(f"{where}: needs 'type', a GX expectation name such as expect_...")
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{where}: 'kwargs' must be a JSON object")
    reserved = sorted(_RESERVED_KWARGS & kwargs.keys())
    if reserved:
        raise SuiteError(f"{where}: {reserved} belong beside 'kwargs', not inside it")
    if severity not in SEVERITIES:
        raise SuiteError(f"{where}: 'severity' must be one of {list(SEVERITIES)}, not {severity!r}")
    if description is not None and not isinstance(description, str):
        raise SuiteError(f"{where}: 'description' must be a string")
    if expectation_type == UNEXPECTED_ROWS:
        query = kwargs.get("unexpected_rows_query")
        if not isinstance(query, str) or "{batch}" not in query:
            # Without {batch} the query reads whatever it names, not the table being audited.
            raise SuiteError(f"{where}: 'unexpected_rows_query' must select FROM {{batch}}")
        if not description:
            # The SQL means nothing to a data manager; the description is what they are shown.
            raise SuiteError(f"{where}: an {UNEXPECTED_ROWS} needs a 'description'")
    return ExpectationSpec(
        type=expectation_type,
        kwargs=kwargs,
        severity=cast(Severity, severity),
        description=description,
    )


def _reject_unknown_keys(raw: Mapping[str, Any], allowed: set[str], *, where: str) -> None:
    # A misspelt key ("severty") would otherwise be ignored without anyone noticing.
    unknown = sorted(raw.keys() - allowed)
    if unknown:
        raise SuiteError(f"{where}: unknown keys {unknown}; allowed are {sorted(allowed)}")


def _connection_string(database: Path) -> str:
    # URL.create escapes characters such as '#' and '?' that may appear in a file path.
    return sa.URL.create("duckdb", database=str(database)).render_as_string(hide_password=False)


def _run_checkpoint(
    database: Path, suites: Sequence[Suite], docs_dir: Path | None
) -> tuple[ExpectationOutcome, ...]:
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars only clutter the Airflow task log.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        share_compiled_templates()
        context.add_data_docs_site(
            site_name="run",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=["run"]))
    # The audit's queries scan the year's session facts: the same memory limit as the build.
    config = duckdb_settings(database)
    Path(config["temp_directory"]).mkdir(parents=True, exist_ok=True)
    try:
        datasource = context.data_sources.add_sql(
            name="warehouse",
            connection_string=_connection_string(database),
            kwargs={"connect_args": {"read_only": True, "config": config}},
        )
    except Exception as error:
        # Typically DuckDB's lock: another step still has the file open for writing.
        raise AuditFailed(
            f"Publication withheld: the warehouse file {database} could not be opened for "
            f"checking ({type(error).__name__}); another step may still be writing to it. The "
            "previous publication is still in place."
        ) from error
    try:
        specs_by_id: dict[str, tuple[Suite, int, ExpectationSpec]] = {}
        validation_definitions = []
        for suite in suites:
            definition, ids = _validation_definition(context, datasource, suite, database)
            validation_definitions.append(definition)
            for index, (expectation_id, spec) in enumerate(
                zip(ids, suite.expectations, strict=True)
            ):
                specs_by_id[expectation_id] = (suite, index, spec)
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="publication_gate",
                validation_definitions=validation_definitions,
                result_format=_RESULT_FORMAT,
                actions=actions,
            )
        )
        result = checkpoint.run()
    finally:
        _close_connections(datasource)

    ordered: list[tuple[int, int, ExpectationOutcome]] = []
    suite_order = {suite.name: number for number, suite in enumerate(suites)}
    for suite_result in result.run_results.values():
        for expectation_result in suite_result.results:
            expectation_id = expectation_result.expectation_config.id
            suite, index, spec = specs_by_id[expectation_id]
            outcome = _outcome(suite.table, spec, expectation_result)
            ordered.append((suite_order[suite.name], index, outcome))
    return tuple(outcome for _, _, outcome in sorted(ordered, key=lambda item: item[:2]))


def _validation_definition(
    context: AbstractDataContext, datasource: SQLDatasource, suite: Suite, database: Path
) -> tuple[ValidationDefinition, list[str]]:
    """The table's asset (its "rows" only, when set), batch, suite and validation definition,
    added to context.

    Returns the definition and the ids GX gave the suite's expectations, in suite order.
    """
    import great_expectations as gx

    try:
        if suite.rows:
            # A query asset: the expectations' SQL runs over the selected rows, and an
            # unexpected_rows_query's {batch} stands for this query.
            asset = datasource.add_query_asset(
                name=suite.table, query=f"SELECT * FROM {suite.table} WHERE {suite.rows}"
            )
        else:
            asset = datasource.add_table_asset(name=suite.table, table_name=suite.table)
    except Exception as error:
        # GX checks here that the table exists; its own message names neither file nor table.
        raise AuditFailed(
            f"Publication withheld: table {suite.table!r} could not be read from "
            f"{database}, so it could not be checked. The step that builds "
            "it may have failed. The previous publication is still in place."
        ) from error
    batch_definition = asset.add_batch_definition_whole_table(name=f"{suite.table} (whole table)")
    gx_suite = gx.ExpectationSuite(name=suite.name)
    for number, spec in enumerate(suite.expectations, start=1):
        gx_suite.add_expectation(_gx_expectation(spec, where=f"{suite.path}, expectation {number}"))
    gx_suite = context.suites.add(gx_suite)
    ids = [str(expectation.id) for expectation in gx_suite.expectations]
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.table, data=batch_definition, suite=gx_suite)
    )
    return definition, ids


def _gx_expectation(spec: ExpectationSpec, *, where: str) -> Expectation:
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        expectation_class = get_expectation_impl(spec.type)
    except ExpectationNotFoundError as error:
        raise SuiteError(f"{where}: GX has no expectation called {spec.type!r}") from error
    severity = FailureSeverity.CRITICAL if spec.severity == "error" else FailureSeverity.WARNING
    try:
        return expectation_class(**spec.kwargs, description=spec.description, severity=severity)
    except ValueError as error:  # pydantic's ValidationError, listing each bad argument
        raise SuiteError(f"{where}: invalid kwargs for {spec.type}: {error}") from error


def _outcome(
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


def _close_connections(datasource: SQLDatasource) -> None:
    # Two engines hold DuckDB connections: the data source's own (GX used it to check that each
    # table exists) and the execution engine's persisted one. DuckDB keeps the file locked, and
    # refuses a read-write connection in this process, until both are closed.
    try:
        datasource.get_execution_engine().close()
    finally:
        datasource.get_engine().dispose()
