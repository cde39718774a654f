"""GX on DuckDB fails without `enable_duckdb_for_gx` and works with it.

When a GX upgrade fixes either problem, the matching "without" test starts failing: that is the
signal to drop that part of ingestion/gx_duckdb.py.
"""

import importlib
import os
from pathlib import Path
from typing import Any

import duckdb
import duckdb_engine
import pytest
import sqlalchemy as sa

from expectations import gx_duckdb
from expectations.gx_duckdb import enable_duckdb_for_gx

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "small.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select range as n, 'A' || range as code from range(10)")
    return path


@pytest.fixture
def without_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    """GX as installed, whether or not another test already patched it; restored afterwards."""
    engine_module = importlib.import_module(gx_duckdb._ENGINE_MODULE)
    monkeypatch.setattr(
        engine_module,
        "_PERSISTED_CONNECTION_DIALECTS",
        tuple(d for d in engine_module._PERSISTED_CONNECTION_DIALECTS if d != "duckdb"),
    )
    for name in gx_duckdb._REGEX_METRIC_MODULES:
        module = importlib.import_module(name)
        original = getattr(module.get_dialect_regex_expression, "__wrapped__", None)
        if original is not None:
            monkeypatch.setattr(module, "get_dialect_regex_expression", original)


def validate(database: Path, expectation_type: str, **kwargs: Any) -> Any:
    """One expectation through GX on the file, read-only; every connection closed after."""
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(
        name="db",
        connection_string=f"duckdb:///{database}",
        kwargs={"connect_args": {"read_only": True}},
    )
    try:
        batch = source.add_table_asset("t", table_name="t").add_batch_definition_whole_table("all")
        return batch.get_batch().validate(get_expectation_impl(expectation_type)(**kwargs))
    finally:
        source.get_execution_engine().close()
        source.get_engine().dispose()


def _exception_messages(result: Any) -> str:
    return repr(result.exception_info)


def test_without_patch_every_expectation_hits_issue_11579(
    database: Path, without_patch: None
) -> None:
    result = validate(database, "expect_column_values_to_be_between", column="n", min_value=0)
    assert not result.success
    assert "list index out of range" in _exception_messages(result)


def test_without_patch_regex_is_unsupported(
    database: Path, without_patch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_module = importlib.import_module(gx_duckdb._ENGINE_MODULE)
    # Only the regex gap here: keep the connection fix, so that the regex is what fails.
    monkeypatch.setattr(
        engine_module,
        "_PERSISTED_CONNECTION_DIALECTS",
        (*engine_module._PERSISTED_CONNECTION_DIALECTS, gx_duckdb._DialectName("duckdb")),
    )
    result = validate(database, "expect_column_values_to_match_regex", column="code", regex="^A")
    assert not result.success
    assert "Regex is not supported for dialect duckdb" in _exception_messages(result)


def test_with_patch_expectations_run(database: Path) -> None:
    enable_duckdb_for_gx()
    between = validate(database, "expect_column_values_to_be_between", column="n", max_value=7)
    assert between.result["unexpected_count"] == 2  # 8 and 9
    assert not between.exception_info.get("raised_exception")
    regex = validate(database, "expect_column_values_to_match_regex", column="code", regex="A[0-7]")
    assert regex.result["unexpected_count"] == 2
    # GX matches a regex anywhere in the value, as on Postgres, unless it is anchored.
    assert validate(
        database, "expect_column_values_to_match_regex", column="code", regex="[0-9]"
    ).success
    assert not validate(
        database, "expect_column_values_to_not_match_regex", column="code", regex="^A"
    ).success


def _query_after_a_failed_one(database: Path) -> int:
    # A single connection kept open, as GX keeps it for DuckDB once patched.
    engine = sa.create_engine(f"duckdb:///{database}", poolclass=sa.StaticPool)
    try:
        with engine.connect() as con:
            with pytest.raises(sa.exc.ProgrammingError, match="nope"):
                con.execute(sa.text("select nope from t"))
            return con.execute(sa.text("select count(*) from t")).scalar_one()
    finally:
        engine.dispose()


def test_without_patch_a_failed_statement_poisons_the_connection(database: Path) -> None:
    listener = gx_duckdb._roll_back_failed_transaction
    registered = sa.event.contains(duckdb_engine.Dialect, "handle_error", listener)
    if registered:
        sa.event.remove(duckdb_engine.Dialect, "handle_error", listener)
    try:
        with pytest.raises(sa.exc.OperationalError, match="transaction is aborted"):
            _query_after_a_failed_one(database)
    finally:
        if registered:
            sa.event.listen(duckdb_engine.Dialect, "handle_error", listener)


def test_with_patch_the_connection_recovers_from_a_failed_statement(database: Path) -> None:
    enable_duckdb_for_gx()
    assert _query_after_a_failed_one(database) == 10


def test_enable_is_idempotent() -> None:
    enable_duckdb_for_gx()
    engine_module = importlib.import_module(gx_duckdb._ENGINE_MODULE)
    dialects = engine_module._PERSISTED_CONNECTION_DIALECTS
    regex_functions = [
        importlib.import_module(name).get_dialect_regex_expression
        for name in gx_duckdb._REGEX_METRIC_MODULES
    ]
    enable_duckdb_for_gx()
    assert engine_module._PERSISTED_CONNECTION_DIALECTS is dialects
    assert [d for d in dialects if d == "duckdb"] == ["duckdb"]
    assert regex_functions == [
        importlib.import_module(name).get_dialect_regex_expression
        for name in gx_duckdb._REGEX_METRIC_MODULES
    ]
    assert not hasattr(regex_functions[0].__wrapped__, "__wrapped__")


def test_other_dialects_are_unaffected() -> None:
    enable_duckdb_for_gx()
    engine_module = importlib.import_module(gx_duckdb._ENGINE_MODULE)
    requires_persisted = engine_module._dialect_requires_persisted_connection
    # GX reads `.value` off each entry here; a plain "duckdb" string would raise AttributeError.
    assert requires_persisted(connection_string="duckdb:///warehouse.duckdb")
    assert requires_persisted(connection_string="sqlite:///x.db")
    assert not requires_persisted(connection_string="postgresql://localhost/db")
