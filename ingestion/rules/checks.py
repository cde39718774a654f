"""Check a round's rows of one kind against the extract contract's row rules (docs/feed.md),
all in DuckDB: the valid rows typed in `incoming`, the others in `quarantined` with the first
rule each breaks.

Every rule is written once, in SQL (`columns.py`: the rules of one column, worked out once
per distinct value; `kinds.py`: each kind's rules in order and the rules across columns).
"""

from datetime import datetime

import duckdb
import pyarrow as pa

from ingestion.contract import FileKind
from ingestion.rules.kinds import DateLimits, KindRules, rules_for

__all__ = ["DateLimits", "check_rows"]

_SQL_TYPES = {
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.int32(): "integer",
    pa.bool_(): "boolean",
}


def _sql_type(field: pa.Field) -> str:
    if pa.types.is_timestamp(field.type):
        return "timestamptz"
    return _SQL_TYPES[field.type]


def _typed(kind: FileKind, rules: KindRules) -> str:
    """The select list of `incoming`: the kind's staged columns, typed, and `file_no`."""
    typed = {**rules.typed, "line": "s.line"}
    columns = [
        f'cast({typed[f.name]} as {_sql_type(f)}) as "{f.name}"' for f in kind.arrow_schema()
    ]
    return ", ".join([*columns, "s.file_no::integer as file_no"])


def _raw_record(kind: FileKind) -> str:
    """The row's known columns that it had, as a JSON object (keys in order)."""
    entries = ", ".join(
        f"{{'k': '{name}', 'v': s.\"{name}\"}}" for name in sorted(kind.known_columns)
    )
    kept = f"list_filter([{entries}], lambda e: list_contains(s.present, e.k))"
    return f"to_json(map_from_entries({kept}))::varchar"


def check_rows(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    source: str,
    now: datetime,
    limits: DateLimits | None = None,
) -> None:
    """Check the rows of the relation `source` (file_no, line, file_urn, extract_time, one
    text column per known column of `kind`, present), ingested at `now`.

    Creates (or replaces) the temp tables `incoming` (the valid rows: the columns of
    `kind.arrow_schema()` and file_no) and `quarantined` (file_no, line, reason, raw_record),
    which between them hold every row of `source` once."""
    rules = rules_for(kind.name, now, limits or DateLimits())
    joins = " ".join(
        f'join {c.table} as c_{c.column} on c_{c.column}.value = s."{c.column}"'
        for c in rules.columns
    )
    reason = f"coalesce({', '.join(rules.steps)})"
    try:
        for check in rules.columns:
            con.execute(check.create_sql(source))
        # One pass over the round's rows: every row typed, with its reason (NULL when valid);
        # the quarantined rows then find their text again by (file_no, line).
        con.execute(
            f"create or replace temp table _checked as select {_typed(kind, rules)}, "
            f"{reason} as reason from {source} as s {joins}"
        )
        con.execute(
            "create or replace temp table incoming as "
            "select * exclude (reason) from _checked where reason is null"
        )
        con.execute(
            "create or replace temp table quarantined as "
            "select c.file_no, c.line, c.reason, "
            f"{_raw_record(kind)} as raw_record from _checked as c join {source} as s "
            "on s.file_no = c.file_no and s.line = c.line "
            "where c.reason is not null order by c.file_no, c.line"
        )
    finally:
        con.execute("drop table if exists _checked")
        for check in rules.columns:
            con.execute(f"drop table if exists {check.table}")
