"""The extract contract's row rules for a whole round of files at once, in DuckDB, for the
rows in their usual form.

`row_rules.clean_row` checks one row in Python: clear, but 20 µs a row, and a large authority
sends millions of marks a morning. Here a file's rows are checked together in SQL, but only
against a *stricter* form of each rule: canonical dates (`2025-09-15`), timestamps with seconds
and an offset (`2025-09-15T16:05:00+01:00`), permanent UPNs in capitals, no stray spaces. A
row in that form is valid by `clean_row` too, with the same values (tests/ingestion check
both ways on generated extracts). Every other row (a temporary UPN, a lower-case code, a
broken date) goes through `clean_row` itself, so the quarantine reasons are its words, always.
"""

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import FileKind
from ingestion.jsonl_sql import ArrowColumns
from ingestion.readers import RowBatch
from ingestion.rules.register_codes import CODE_SET_2024_FROM, code_categories
from ingestion.rules.row_rules import (
    FALSE_VALUES,
    MAX_MINUTES_LATE,
    NCY_VALUES,
    PRIMARY_NEEDS,
    TRUE_VALUES,
    RowInvalid,
    clean_row,
)
from ingestion.rules.upn import check_letter_sql

_DATE = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_OFFSET = "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"


def _listed(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def _date_ok(column: str) -> str:
    # Year 0 is no date to Python; try_cast rules out 30 February.
    return (
        f"(regexp_full_match({column}, '{_DATE}') and left({column}, 4) <> '0000' "
        f"and try_cast({column} as date) is not null)"
    )


def _timestamp_ok(column: str) -> str:
    return (
        f"(regexp_full_match({column}, '{_DATE}T{_TIME}{_OFFSET}') "
        f"and left({column}, 4) <> '0000' and try_cast(left({column}, 10) as date) is not null)"
    )


def _urn_ok(column: str) -> str:
    return f"regexp_full_match({column}, '[0-9]{{6}}')"


def _upn_ok(column: str) -> str:
    """A permanent UPN in capitals with the right check letter (upn.check_letter)."""
    return (
        f"(regexp_full_match({column}, '[A-Z][0-9]{{12}}') "
        f"and {check_letter_sql(column, start=2)} = left({column}, 1))"
    )


def _letters(column: str, values, width: str = "+") -> str:
    """The value, in capitals, is one of `values` (ASCII letters and digits only)."""
    shape = f"regexp_full_match({column}, '[A-Za-z0-9]{width}')"
    return f"({shape} and upper({column}) in {_listed(values)})"


def _flag(column: str) -> str:
    return (
        f"(case when lower({column}) in {_listed(TRUE_VALUES)} then true "
        f"when lower({column}) in {_listed(FALSE_VALUES)} then false end)"
    )


def _flag_ok(column: str) -> str:
    flags = TRUE_VALUES | FALSE_VALUES
    return (
        f"({column} = '' or (regexp_full_match({column}, '[A-Za-z0-9]+') "
        f"and lower({column}) in {_listed(flags)}))"
    )


def _timestamp(column: str) -> str:
    return f"cast({column} as timestamptz)"


# Each rule in two parts. The rules of one column are checked once per distinct value of the
# column in the round (`value` stands for it): a round's marks have a handful of dates and
# timestamps, and each UPN about ten times, so the regular expressions run on a small
# fraction of the rows. The rules across columns are checked on every row, with each
# column's verdict as `ok_<column>`.
MARKS_COLUMNS = {
    "urn": _urn_ok("value"),
    "upn": _upn_ok("value"),
    "session_date": f"{_date_ok('value')} and isodow(try_cast(value as date)) <= 5",
    "extracted_at": _timestamp_ok("value"),
    "session": "regexp_full_match(value, '[A-Za-z]{2}') and upper(value) in ('AM', 'PM')",
    "minutes_late": (
        "value = '' or (regexp_full_match(value, '[0-9]{1,4}') "
        f"and try_cast(value as integer) <= {MAX_MINUTES_LATE})"
    ),
    "last_modified": f"value = '' or {_timestamp_ok('value')}",
}
MARKS_ROWS = """
    try_cast(session_date as date) <= try_cast(left(extracted_at, 10) as date)
    and (code = '' or known_code is not null)
"""
MARKS_TYPED = f"""
    urn, upn, cast(session_date as date) as session_date, upper(session) as session,
    nullif(code, '') as code, cast(nullif(minutes_late, '') as integer) as minutes_late,
    {_timestamp("coalesce(nullif(last_modified, ''), extracted_at)")} as transaction_time,
    {_timestamp("extracted_at")} as extracted_at, line
"""

PUPILS_COLUMNS = {
    "urn": _urn_ok("value"),
    "upn": _upn_ok("value"),
    "sen_provision": _letters("value", {"N", "K", "E"}, ""),
    "sen_primary_need": f"value = '' or {_letters('value', PRIMARY_NEEDS)}",
    "sex": f"value = '' or {_letters('value', {'M', 'F'}, '')}",
    "ncy": f"value = '' or {_letters('value', NCY_VALUES)}",
    "admission_date": _date_ok("value"),
    "date_of_birth": _date_ok("value"),
    "leaving_date": f"value = '' or {_date_ok('value')}",
    "effective_date": f"value = '' or {_date_ok('value')}",
    "extracted_at": _timestamp_ok("value"),
    "fsm_eligible": _flag_ok("value"),
    "looked_after": _flag_ok("value"),
    "child_in_need": _flag_ok("value"),
    "child_protection_plan": _flag_ok("value"),
}
PUPILS_ROWS = """
    not (upper(sen_provision) in ('K', 'E') and sen_primary_need = '')
    and not (upper(sen_primary_need) = 'NSA' and upper(sen_provision) <> 'K')
    and (leaving_date = '' or try_cast(leaving_date as date) >= try_cast(admission_date as date))
"""
PUPILS_TYPED = f"""
    urn, upn,
    coalesce(cast(nullif(effective_date, '') as date), cast(left(extracted_at, 10) as date))
        as valid_from,
    cast(date_of_birth as date) as date_of_birth, nullif(upper(sex), '') as sex,
    nullif(upper(ncy), '') as ncy, cast(admission_date as date) as admission_date,
    cast(nullif(leaving_date, '') as date) as leaving_date,
    upper(sen_provision) as sen_provision, nullif(upper(sen_primary_need), '') as sen_primary_need,
    {_flag("fsm_eligible")} as fsm_eligible, {_flag("looked_after")} as looked_after,
    {_flag("child_in_need")} as child_in_need,
    {_flag("child_protection_plan")} as child_protection_plan,
    {_timestamp("extracted_at")} as transaction_time, {_timestamp("extracted_at")} as extracted_at,
    line
"""

MARKS_SOURCE = """
    batch_arrow left join (select code_set, code as known_code from codes) as codes
        on codes.code_set = code_set(batch_arrow.session_date)
        and codes.known_code = batch_arrow.code
"""


@dataclass(frozen=True)
class FastRule:
    """A kind's rows in the usual form: the relation they are read from, the rules of single
    columns (on `value`), the rule across columns, and the typed event columns."""

    source: str
    columns: dict[str, str]
    rows: str
    typed: str

    def valid(self) -> str:
        verdicts = " and ".join(f"ok_{column}" for column in self.columns)
        return f"{verdicts} and {self.rows}"


# Kinds checked in SQL; a schools file is one row, checked by clean_row.
FAST_RULES = {
    "marks": FastRule(MARKS_SOURCE, MARKS_COLUMNS, MARKS_ROWS, MARKS_TYPED),
    "pupils": FastRule("batch_arrow", PUPILS_COLUMNS, PUPILS_ROWS, PUPILS_TYPED),
}


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The register codes and the code-set macro the marks rule reads (once per connection)."""
    con.execute("create or replace temp table codes (code_set varchar, code varchar)")
    con.executemany("insert into codes values (?, ?)", list(code_categories()))
    con.execute(
        "create or replace temp macro code_set(d) as "
        f"case when try_cast(d as date) >= date '{CODE_SET_2024_FROM}' then '2024' "
        "else 'pre2024' end"
    )


def text_table(batch: RowBatch) -> pa.Table:
    """The batch's rows as Arrow text columns (and `line`): compact while a round waits."""
    lines = pa.array(batch.lines, pa.int32())
    if isinstance(batch.columns, ArrowColumns):
        # Read by DuckDB (jsonl_sql): already Arrow, never made Python strings.
        return batch.columns.table.add_column(0, "line", lines)
    text = {column: pa.array(values, pa.string()) for column, values in batch.columns.items()}
    return pa.table({"line": lines, **text})


@dataclass(frozen=True)
class FileText:
    """One file's readable rows, as `text_table` made them, and the known columns each row
    actually had (`RowBatch.present`: its quarantine record keeps only those)."""

    kind: FileKind
    table: pa.Table
    present: list[frozenset[str]]

    def values(self, index: int) -> dict[str, str]:
        """Row `index` as `RowBatch.values` gives it."""
        row = self.table.slice(index, 1).to_pylist()[0]
        return {c: row[c] for c in self.kind.known_columns if c in self.present[index]}


def _with_column_verdicts(
    con: duckdb.DuckDBPyConnection, table: pa.Table, rules: dict[str, str]
) -> pa.Table:
    """The table with `ok_<column>` for each ruled column: the rule's verdict on the row's
    value, worked out once per distinct value (Arrow's dictionary of the column)."""
    for column, rule in rules.items():
        encoded = pc.dictionary_encode(table.column(column)).combine_chunks()
        con.register("column_values", pa.table({"value": encoded.dictionary}))
        try:
            verdicts = con.sql(f"select ({rule}) is true as ok from column_values")
            ok = verdicts.to_arrow_table().column("ok").combine_chunks()
        finally:
            con.unregister("column_values")
        table = table.append_column(f"ok_{column}", pc.take(ok, encoded.indices))
    return table


def stage_valid_rows(
    con: duckdb.DuckDBPyConnection,
    batch: RowBatch,
    to_record: Callable[[dict], dict],
    schema: pa.Schema,
) -> list[tuple[int, str, dict[str, str]]]:
    """Create the temp table `incoming` (schema `schema`, and `file_no` 0) with the batch's
    valid rows, typed; return (line, reason, raw) of the invalid ones, by `clean_row`.

    `to_record(record)` turns a `clean_row` record into the event table's row (as
    `ingest._for_stream` does), for the rows checked in Python."""
    files = [FileText(batch.kind, text_table(batch), batch.present)]
    problems = stage_files(con, files, lambda _, record: to_record(record), schema)
    return [(line, reason, raw) for _, line, reason, raw in problems]


def stage_files(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileText],
    to_record: Callable[[int, dict], dict],
    schema: pa.Schema,
) -> list[tuple[int, int, str, dict[str, str]]]:
    """Check the rows of several files of one kind in one pass: create the temp table
    `incoming` (schema `schema`, and `file_no`: the row's file's index in `files`) with their
    valid rows, typed; return (file_no, line, reason, raw) of the invalid ones, by `clean_row`,
    in file and line order.

    `to_record(file_no, record)` turns a `clean_row` record into the event table's row."""
    kind = files[0].kind
    table = pa.concat_tables(
        file.table.append_column("file_no", pa.array([number] * file.table.num_rows, pa.int32()))
        for number, file in enumerate(files)
    )
    rule = FAST_RULES.get(kind.name)
    if rule is not None:
        table = _with_column_verdicts(con, table, rule.columns)
    con.register("batch_arrow", table)
    columns = ", ".join([*schema.names, "file_no"])
    try:
        if rule is not None:
            # The rule is worked out twice (once for the valid rows, once for the others)
            # rather than kept with every row's text in a table: copying the text cost more.
            con.execute(
                f"create or replace temp table incoming as select {columns} from "
                f"(select {rule.typed}, file_no from {rule.source} where ({rule.valid()}) is true)"
            )
            slow = con.execute(
                f"select file_no, line from {rule.source} where ({rule.valid()}) is not true "
                "order by file_no, line"
            ).fetchall()
        else:
            empty = pa.Table.from_pylist([], schema=schema)
            con.register("empty_arrow", empty)
            con.execute(
                "create or replace temp table incoming as "
                "select *, null::integer as file_no from empty_arrow"
            )
            con.unregister("empty_arrow")
            slow = [
                (number, line)
                for number, file in enumerate(files)
                for line in file.table.column("line").to_pylist()
            ]
    finally:
        con.unregister("batch_arrow")
    lines: dict[int, list[int]] = {}
    problems, records = [], []
    for number, line in slow:
        if number not in lines:
            lines[number] = files[number].table.column("line").to_pylist()
        # Lines rise through a file, so a line finds its row by bisection.
        index = bisect_left(lines[number], line)
        values = files[number].values(index)
        try:
            record = clean_row(kind, values)
        except RowInvalid as problem:
            problems.append((number, line, str(problem), values))
            continue
        records.append({**to_record(number, record), "line": line, "file_no": number})
    if records:
        full = schema.append(pa.field("file_no", pa.int32()))
        con.register("slow_arrow", pa.Table.from_pylist(records, schema=full))
        con.execute(f"insert into incoming select {columns} from slow_arrow")
        con.unregister("slow_arrow")
    return problems
