"""Make Great Expectations 1.24 usable on DuckDB through SQLAlchemy (duckdb-engine).

Two gaps, both in GX, both patched by `enable_duckdb_for_gx()`:

1. Every expectation fails with `IndexError: list index out of range`. GX runs each metric
   query in a `with engine.connect()` block and reads the rows after the block has closed the
   connection, which discards a DuckDB result set
   (https://github.com/great-expectations/great_expectations/issues/11579). GX already keeps one
   persisted connection for the dialects in
   `sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS` (sqlite, mssql, ...); DuckDB
   is added there. That connection keeps one transaction open, and DuckDB refuses everything
   after a failed statement until it is rolled back, so one expectation that cannot run (a
   missing column, say) would make every later one fail too: a DuckDB transaction is
   therefore rolled back as soon as a statement in it fails.

2. The regex expectations (`expect_column_values_to_match_regex` and its three siblings) fail
   on every run with "Regex is not supported for dialect duckdb": GX's
   `get_dialect_regex_expression` has no DuckDB branch. DuckDB's `regexp_matches` is added,
   with the same search (not full-match) meaning as GX gives regexes on Postgres and pandas.

Remove each patch once the installed GX no longer needs it: `tests/ingestion/test_gx_duckdb.py`
shows each failure with its patch undone, so those tests start failing when GX has fixed them.
No GX issue was found for the regex gap.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

import duckdb_engine
import sqlalchemy as sa

logger = logging.getLogger(__name__)

_DIALECT = "duckdb"
_ENGINE_MODULE = "great_expectations.execution_engine.sqlalchemy_execution_engine"
# Each imported `get_dialect_regex_expression` by name, so each holds its own reference to it.
_REGEX_METRIC_MODULES = tuple(
    f"great_expectations.expectations.metrics.column_map_metrics.{name}"
    for name in (
        "column_values_match_regex",
        "column_values_not_match_regex",
        "column_values_match_regex_list",
        "column_values_not_match_regex_list",
    )
)


class _DialectName(str):
    """A dialect name in the shape GX expects of the members of that list.

    The list holds `GXSqlDialect` enum members, and GX reads it two ways: `dialect_name in ...`
    (string equality) and `connection_string.startswith(member.value)`. A plain "duckdb" string
    passes the first and raises AttributeError in the second, when the engine is built; DuckDB
    cannot be added to the enum itself, so this is a string that also has `.value`.
    """

    @property
    def value(self) -> str:
        return str(self)


def enable_duckdb_for_gx() -> None:
    """Patch GX so that expectations run on DuckDB (GX issue 11579, and regexes). Idempotent.

    Process-wide: it changes GX's module state and adds a SQLAlchemy listener for DuckDB.
    """
    # GX is imported here, not at module level: it takes seconds to import, and Airflow imports
    # this package whenever it parses the DAG files.
    _persist_duckdb_connections()
    if not sa.event.contains(duckdb_engine.Dialect, "handle_error", _roll_back_failed_transaction):
        sa.event.listen(duckdb_engine.Dialect, "handle_error", _roll_back_failed_transaction)
    _add_duckdb_regex()


def _persist_duckdb_connections() -> None:
    engine_module = importlib.import_module(_ENGINE_MODULE)
    dialects = getattr(engine_module, "_PERSISTED_CONNECTION_DIALECTS", None)
    if dialects is None:
        # GX has reorganised this code, so the patch no longer applies. Expectations that still
        # fail on DuckDB show up as "could not be checked" and block publication.
        logger.warning(
            "great_expectations no longer has _PERSISTED_CONNECTION_DIALECTS: check whether GX "
            "issue 11579 is fixed and the first patch in ingestion/gx_duckdb.py can go"
        )
        return
    if _DIALECT not in dialects:
        engine_module._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DialectName(_DIALECT))


def _roll_back_failed_transaction(context: sa.engine.ExceptionContext) -> None:
    # For every DuckDB engine in the process; an aborted DuckDB transaction is good for nothing
    # but a rollback anyway. SQLAlchemy re-raises the error afterwards.
    # The rollback goes to the DuckDB connection itself: SQLAlchemy may not know a transaction
    # is open (DuckDB begins one implicitly), and its own BEGIN would then be refused.
    connection = context.connection
    if connection is None or connection.invalidated:
        return
    try:
        connection.connection.dbapi_connection.rollback()
    except Exception:  # noqa: BLE001 - nothing was open; the original error is what matters
        logger.debug("no DuckDB transaction to roll back after: %s", context.original_exception)


def _add_duckdb_regex() -> None:
    for name in _REGEX_METRIC_MODULES:
        module = importlib.import_module(name)
        original = getattr(module, "get_dialect_regex_expression", None)
        if original is None:
            logger.warning("%s no longer uses get_dialect_regex_expression; not patched", name)
        elif not getattr(original, "handles_duckdb", False):
            module.get_dialect_regex_expression = _with_duckdb_regex(original)


def _with_duckdb_regex(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)  # keeps the original as __wrapped__, for the tests to undo
    def get_dialect_regex_expression(
        column: Any, regex: str, dialect: Any, positive: bool = True
    ) -> Any:
        # For a dialect GX has no module for, the metric passes the engine's Dialect object.
        if getattr(dialect, "name", None) == _DIALECT:
            matches = sa.func.regexp_matches(column, sa.literal(regex))
            return matches if positive else sa.not_(matches)
        return original(column, regex, dialect, positive=positive)

    get_dialect_regex_expression.handles_duckdb = True  # type: ignore[attr-defined]
    return get_dialect_regex_expression
