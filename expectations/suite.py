"""Expectation suites: the checks each table must pass, as JSON files in `expectations/suites/`.

Each published table has a suite in `expectations/suites/<table>.json`:

    {
      "name": "pupil_attendance",
      "table": "pupil_attendance",
      "description": "optional, for people reading the file",
      "expectations": [
        {
          "type": "expect_column_values_to_be_between",
          "kwargs": {"column": "possible_sessions", "min_value": 1},
          "severity": "critical",
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
expectation of severity "critical" blocks publication when it fails; "warning" and "info" are
only reported (GX's own severities).
In an `unexpected_rows_query`, `{batch}` stands for the table and a literal brace is doubled
(`{{`), because GX fills the query in with `str.format`.

The checks run as SQL inside DuckDB, on the warehouse file opened read-only; no table is loaded
into Python.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

SUITES_DIR = Path(__file__).resolve().parent / "suites"

# GX's own severities (great_expectations.expectations.metadata_types.FailureSeverity): a
# failed "critical" expectation blocks publication; "warning" and "info" are only reported.
Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
BLOCKING: Severity = "critical"
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
# Suite parameters: a kwarg value "${name}" or "${name:default}" is replaced whole, and such a
# placeholder inside an unexpected_rows_query is replaced in the text, by the value the caller
# passes for `name` (else the default; a whole-value default that reads as a number is one).
_PARAMETER = re.compile(r"\$\{([a-z_][a-z0-9_]*)(?::([^}]*))?\}")


class SuiteError(ValueError):
    """An expectation suite file is missing or malformed: a problem for the pipeline's engineers."""


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


def with_parameters(suite: Suite, parameters: Mapping[str, Any]) -> Suite:
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
