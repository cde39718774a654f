"""The quality gate: every audited table's suite run in one Great Expectations checkpoint.

The checks run as SQL inside DuckDB, on the warehouse file opened read-only; no table is
loaded into Python. The suites are described in `expectations/suite.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from expectations.gx_duckdb import enable_duckdb_for_gx
from expectations.outcomes import (
    SAMPLE_SIZE,
    AuditFailed,
    AuditReport,
    ExpectationOutcome,
    outcome_of,
    withheld_message,
)
from expectations.suite import (
    SUITES_DIR,
    ExpectationSpec,
    Suite,
    SuiteError,
    load_suite,
    with_parameters,
)
from warehouse.connect import settings as duckdb_settings
from warehouse.permissions import make_folders

if TYPE_CHECKING:
    from great_expectations import ValidationDefinition
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.expectations.expectation import Expectation

logger = logging.getLogger(__name__)

_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}


def audit(
    database: Path,
    tables: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    parameters: Mapping[str, Any] | None = None,
    scoped: bool = False,
) -> AuditReport:
    """Run each table's suite against the DuckDB file, through one GX Checkpoint.

    `parameters` fill the suites' "${name}" placeholders (e.g. the previous publication's row
    counts). With `scoped`, a suite that names its "rows" checks only those rows. The
    report's quality page is written from the record (expectations/quality_record.py), not
    by GX: GX's Data Docs need the internet to render.

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
    suites = [with_parameters(suite, parameters or {}) for suite in suites]

    enable_duckdb_for_gx()
    outcomes = _run_checkpoint(database, suites)
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
) -> AuditReport:
    """Audit, and raise AuditFailed, for the data manager, unless the tables may be published.

    Returns the report when nothing blocks publication, so that warnings can still be shown.
    """
    report = audit(database, tables, suites_dir=suites_dir, parameters=parameters)
    if not report.success:
        raise AuditFailed(withheld_message(report), report)
    return report


def _connection_string(database: Path) -> str:
    # URL.create escapes characters such as '#' and '?' that may appear in a file path.
    return sa.URL.create("duckdb", database=str(database)).render_as_string(hide_password=False)


def _run_checkpoint(database: Path, suites: Sequence[Suite]) -> tuple[ExpectationOutcome, ...]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars only clutter the Airflow task log.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # The audit's queries scan the year's session facts: the same memory limit as the build.
    config = duckdb_settings(database)
    make_folders(Path(config["temp_directory"]))
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
            outcome = outcome_of(suite.table, spec, expectation_result)
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
    try:
        return expectation_class(
            **spec.kwargs,
            description=spec.description,
            severity=FailureSeverity(spec.severity),
        )
    except ValueError as error:  # pydantic's ValidationError, listing each bad argument
        raise SuiteError(f"{where}: invalid kwargs for {spec.type}: {error}") from error


def _close_connections(datasource: SQLDatasource) -> None:
    # Two engines hold DuckDB connections: the data source's own (GX used it to check that each
    # table exists) and the execution engine's persisted one. DuckDB keeps the file locked, and
    # refuses a read-write connection in this process, until both are closed.
    try:
        datasource.get_execution_engine().close()
    finally:
        datasource.get_engine().dispose()
