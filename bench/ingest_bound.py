"""The ingest bound: a morning's ingest done by bare DuckDB, no framework, for the ingest
task's seconds to be set against (W1, W3).

    python -m bench.ingest_bound --landing L --warehouse W [DETAIL.json]

W is the warehouse folder (or its .duckdb file); the bound APPENDS to it, so give it a copy
of the pre-morning warehouse. In one transaction, for schools, then pupils, then marks:

- read every extract file of the kind under L, in all four formats, many files per call
  (`read_csv` for .csv and .csv.gz, `read_json` for .jsonl and .jsonl.gz, as many calls of
  each as DuckDB has threads), the contract's columns declared with their types
  (`ingestion/contract.py`): no sniffing, DuckDB parses dates, timestamps, integers and
  booleans as it reads;
- check the contract's row rules (docs/feed.md) on the typed values: URN and LA code shapes,
  a register code of the session's code set (the dbt seed), AM or PM, a weekday not after
  its extract, the SEN, sex and year-group values, leaving not before admission; and once
  per distinct school and UPN, the UPN's shape and check letter (`upn.check_letter_sql`)
  and, for marks, a pupil on roll (a pupils row stored), as the pipeline does;
- keep the news: a row is news when its state differs from the state in force at its
  transaction time for its key (`event_store.append_news`'s meaning), here its key's latest
  stored state (one aggregate of the stored stream, read within literal bounds on its
  schools and the marks' session dates, and one hash join);
- append the news with every event column (event id, event type, times, load, source file
  and line) as the pipeline writes them.

Its time runs from opening the warehouse to the commit. It shares with the pipeline only the
contract, the event store's DDL and streams, the register codes seed, the UPN check letter
and the memory limit of its connections (`warehouse.connect`). Left out of the pipeline's
job: the audit and quarantine rows, and skipping files already ingested (their sha256). It
takes extracts in the form the bench generates: the contract's columns in its order,
permanent UPNs in capitals, canonical values without stray spaces, a key at most once a
morning, mornings ingested in order. A value that does not parse as its declared type stops
it (the pipeline quarantines the row), and so does a row older than its key's latest stored
event (the pipeline places it in the key's history). `tests/bench/test_ingest_bound.py`
checks that it stores the events the pipeline's ingest stores from the same landing folder.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from ingestion.contract import (
    BOOLEAN,
    DATE,
    INTEGER,
    KINDS,
    TEXT,
    TIMESTAMP,
    FileKind,
)
from ingestion.event_store import DDL, PUPIL_STREAM, STREAMS, EventStream
from ingestion.rules.register_codes import CODE_SET_2024_FROM, REGISTER_CODES_SEED
from ingestion.rules.upn import check_letter_sql
from warehouse.connect import connect

SQL_TYPES = {
    TEXT: "varchar",
    DATE: "date",
    TIMESTAMP: "timestamptz",
    INTEGER: "integer",
    BOOLEAN: "boolean",
}
# The values the contract allows (docs/feed.md).
SEN_PROVISIONS = ("N", "K", "E")
PRIMARY_NEEDS = (
    "SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA",
)  # fmt: skip
NCY_VALUES = ("N1", "N2", "R", *(str(n) for n in range(1, 15)))
PHASES = ("primary", "secondary", "special", "all-through", "ap")
MAX_MINUTES_LATE = 1440
# A file's extract folder (`<urn>/2025-09-15T16-05-00Z/<file>`): the time of a schools row.
STAMP = r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2})Z?/[^/]*$"
EXTRACT_TIME = f"timezone('UTC', strptime(regexp_extract(path, '{STAMP}', 1), '%Y-%m-%dT%H-%M-%S'))"
# A read's first row is line 2 of a CSV file (after its header), line 1 of JSON Lines.
FORMS = {"csv": ((".csv", ".csv.gz"), 2), "json": ((".jsonl", ".jsonl.gz"), 1)}


def _listed(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _utc_date(column: str) -> str:
    return f"cast(timezone('UTC', {column}) as date)"


# Each kind's event columns, typed from the columns read (text is null when blank).
TYPED = {
    "schools": f"""
        urn, la_code, name as school_name, lower(phase) as phase,
        {EXTRACT_TIME} as transaction_time, {EXTRACT_TIME} as extracted_at
    """,
    "pupils": f"""
        urn, upn, coalesce(effective_date, {_utc_date("extracted_at")}) as valid_from,
        date_of_birth, upper(sex) as sex, upper(ncy) as ncy, admission_date, leaving_date,
        upper(sen_provision) as sen_provision, upper(sen_primary_need) as sen_primary_need,
        fsm_eligible, looked_after, child_in_need, child_protection_plan,
        extracted_at as transaction_time, extracted_at
    """,
    "marks": """
        urn, upn, session_date, upper(session) as session, code, minutes_late,
        coalesce(last_modified, extracted_at) as transaction_time, extracted_at
    """,
}
# Each kind's row rule on the columns read (the UPN's check letter apart: `_check_upns`).
RULES = {
    "schools": f"""
        regexp_full_match(urn, '[0-9]{{6}}') and regexp_full_match(la_code, '[0-9]{{3}}')
        and name is not null and (phase is null or lower(phase) in {_listed(PHASES)})
    """,
    "pupils": f"""
        regexp_full_match(urn, '[0-9]{{6}}') and upn is not null
        and date_of_birth is not null and admission_date is not null
        and extracted_at is not null
        and upper(sen_provision) in {_listed(SEN_PROVISIONS)}
        and (sen_primary_need is null or upper(sen_primary_need) in {_listed(PRIMARY_NEEDS)})
        and (sen_primary_need is not null or upper(sen_provision) = 'N')
        and (sen_primary_need is null or upper(sen_primary_need) <> 'NSA'
            or upper(sen_provision) = 'K')
        and (sex is null or upper(sex) in ('M', 'F'))
        and (ncy is null or upper(ncy) in {_listed(NCY_VALUES)})
        and (leaving_date is null or leaving_date >= admission_date)
    """,
    "marks": f"""
        regexp_full_match(urn, '[0-9]{{6}}') and upn is not null
        and isodow(session_date) <= 5 and extracted_at is not null
        and session_date <= {_utc_date("extracted_at")}
        and upper(session) in ('AM', 'PM')
        and (code is null or known_code is not null)
        and (minutes_late is null or minutes_late between 0 and {MAX_MINUTES_LATE})
    """,
}
# The schools' files (their folders' stamps), and the marks' codes, each looked up in the
# code set in force on its session's date.
SOURCES = {
    "schools": "inner join bound_files as files on files.file_no = read.file_no",
    "marks": f"""
        left join (select code_set, code as known_code from bound_codes) as codes
            on codes.code_set = case when read.session_date >= date '{CODE_SET_2024_FROM}'
                then '2024' else 'pre2024' end
            and codes.known_code = read.code
    """,
}


def _reader(kind: FileKind, form: str, files: str, first_file: int) -> str:
    """One read of many files (the list parameter `files`) of one kind and form: the
    contract's columns with their declared types, in the contract's order; each row's file
    (numbered from `first_file`) and number in the read."""
    declared, selected = {}, []
    for column in kind.columns:
        sql_type = SQL_TYPES[column.type]
        if column.personal:
            declared[column.name] = "varchar"
        elif form == "json" and column.type in (DATE, TIMESTAMP) and not column.required:
            # A blank optional date is "" in JSON, which a date column refuses: read as text.
            declared[column.name] = "varchar"
            selected.append(f"cast(nullif({column.name}, '') as {sql_type}) as {column.name}")
        else:
            declared[column.name] = sql_type
            blank = column.type == TEXT
            selected.append(f"nullif({column.name}, '') as {column.name}" if blank else column.name)
    columns = "{" + ", ".join(f"'{name}': '{t}'" for name, t in declared.items()) + "}"
    if form == "csv":
        call = (
            f"read_csv({files}, columns = {columns}, auto_detect = false, header = true, "
            "delim = ',', quote = '\"', escape = '\"'"
        )
    else:
        call = f"read_json({files}, columns = {columns}, format = 'newline_delimited'"
    # `with ordinality` numbers the rows of the read in file order (its scan is serial): a
    # row's line is its number less its file's first, plus the file's first line.
    return (
        f"select {', '.join(selected)}, cast({first_file} + file_index as integer) as file_no, "
        f"ordinality as row_no from {call}) with ordinality"
    )


def find_files(landing: Path) -> dict[str, dict[str, list[str]]]:
    """Each kind's extract files under `landing` by form, as `ingestion.landing` finds them:
    a name starting with the kind's (in any case), ending in one of the four formats."""
    found = {kind.name: {form: [] for form in FORMS} for kind in KINDS}
    for path in sorted(landing.rglob("*")):
        name = path.name.lower()
        kind = next((k for k in found if name.startswith(k)), None)
        form = next((f for f, (endings, _) in FORMS.items() if name.endswith(endings)), None)
        if kind and form and path.is_file():
            found[kind][form].append(str(path))
    return found


def stage(
    con: duckdb.DuckDBPyConnection, kind: FileKind, landing: Path, forms: dict[str, list[str]]
) -> dict[str, int]:
    """The temp table `staged` of the rows of the kind's files `forms` (by form, under
    `landing`): typed event columns, the row rule's verdict `ok`, each row's file and number
    in its read; and `bound_files` of the files (path under `landing`, first line). Each
    form's files are read in as many calls as DuckDB has threads: the calls run side by
    side, each one's rows in order."""
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    reads, lists, paths, first_lines = [], {}, [], []
    for form, files in forms.items():
        for part in range(min(threads, len(files))):
            chunk = files[part::threads]
            name = f"files_{len(lists)}"
            lists[name] = chunk
            reads.append(_reader(kind, form, f"${name}", len(paths)))
            paths += [str(Path(f).relative_to(landing)) for f in chunk]
            first_lines += [FORMS[form][1]] * len(chunk)
    con.execute("drop table if exists staged")
    if not reads:
        return {"files": 0, "rows_read": 0, "rows_invalid": 0}
    con.execute(
        "create or replace temp table bound_files as select "
        "cast(unnest(range(len($paths))) as integer) as file_no, unnest($paths) as path, "
        "unnest($lines) as first_line",
        {"paths": paths, "lines": first_lines},
    )
    con.execute(
        f"""
        create temp table staged as
        select {TYPED[kind.name]}, ({RULES[kind.name]}) is true as ok, read.file_no, row_no
        from ({" union all ".join(reads)}) as read {SOURCES.get(kind.name, "")}
        """,
        lists,
    )
    if "upn" in kind.file_columns:
        _check_pupils(con, kind)
    rows, invalid = con.execute("select count(*), count(*) filter (not ok) from staged").fetchone()
    return {"files": len(paths), "rows_read": rows, "rows_invalid": invalid}


def _check_pupils(con: duckdb.DuckDBPyConnection, kind: FileKind) -> None:
    """Rows are not ok whose UPN is not a permanent one in capitals with its check letter,
    or (marks) whose pupil was never on roll at the school (no pupils row stored): checked
    once per distinct school and UPN (each comes ten times in a morning's marks)."""
    never_on_roll = ""
    if kind.name == "marks":
        never_on_roll = """or not exists (
            select 1 from events.pupil_events as p where p.urn = pupil.urn and p.upn = pupil.upn
        )"""
    con.execute(
        f"""
        create or replace temp table refused_pupils as
        select urn, upn from (select distinct urn, upn from staged where ok) as pupil
        where not (regexp_full_match(upn, '[A-Z][0-9]{{12}}')
            and {check_letter_sql("upn", start=2)} = left(upn, 1)) {never_on_roll}
        """
    )
    if con.execute("select count(*) from refused_pupils").fetchone()[0]:
        con.execute(
            "update staged set ok = false where exists (select 1 from refused_pupils as r "
            "where r.urn = staged.urn and r.upn = staged.upn)"
        )


def _bounds(con: duckdb.DuckDBPyConnection, stream: EventStream) -> str:
    """Literal bounds on the stored stream that keep every row the staged keys could have,
    so that DuckDB skips the stored row groups outside them."""
    bounded = ["urn", "session_date"] if "session_date" in stream.key else ["urn"]
    ranges = []
    for column in bounded:
        lowest, highest = con.execute(
            f"select cast(min({column}) as varchar), cast(max({column}) as varchar) "
            "from staged where ok"
        ).fetchone()
        if lowest is None:
            return "false"
        ranges.append(f"{column} between '{lowest}' and '{highest}'")
    return " and ".join(ranges)


def append(con: duckdb.DuckDBPyConnection, stream: EventStream, load_id: str) -> int:
    """Append the staged rows that are news to the stream's table; returns how many.

    The state in force at a row's time is its key's latest stored one, as no row of a
    morning is older than its key's latest stored event (mornings ingested in order, as the
    bench's are): a row that is stops the bound, rather than be compared with the wrong
    state. A key sent twice in one morning would be compared with the store twice (the
    pipeline orders the two; the bench's extracts send each key once)."""
    key = ", ".join(stream.key)
    columns = ", ".join(stream.columns)
    as_text = {c: f"coalesce(cast({c} as varchar), '')" for c in stream.state}
    state = "struct_pack(" + ", ".join(f"{c} := {t}" for c, t in as_text.items()) + ")"
    # (transaction time, extract time) as one value: the order of a key's events.
    placed = "epoch_us(transaction_time)::hugeint * 10000000000000000 + epoch_us(extracted_at)"
    left = ""
    if stream is PUPIL_STREAM:
        # A leaving date where the state in force had none.
        left = "when leaving_date is not null and previous_state.leaving_date = '' then 'left'"
    (added,) = con.execute(
        f"""
        insert into {stream.table} by name
        with incoming as (
            select {columns}, transaction_time, extracted_at, {placed} as placed_at, file_no,
                row_no
            from staged where ok
        ),
        latest as (
            select {key}, arg_max({state}, {placed}) as previous_state,
                max({placed}) as previous_at
            from {stream.table}
            where {_bounds(con, stream)}
            group by {key}
        ),
        news as (
            select * from incoming left join latest using ({key})
            where case when placed_at < previous_at
                then error('ingest bound: a row older than its key''s latest stored event') > ''
                else previous_state is distinct from {state} end
        ),
        lines as (select file_no, min(row_no) as first_row from staged group by file_no)
        select
            md5(concat_ws('|', '{stream.table}', md5(concat_ws('|', {", ".join(as_text.values())})),
                {key}, cast(transaction_time as varchar), cast(extracted_at as varchar)))
                as event_id,
            case when previous_state is null then '{stream.first_event}' {left}
                else '{stream.change_event}' end as event_type,
            {columns}, transaction_time, extracted_at, now() as ingested_at,
            '{load_id}' as load_id, files.path as source_file,
            cast(row_no - first_row + files.first_line as integer) as source_line
        from news inner join lines using (file_no) inner join bound_files as files using (file_no)
        """
    ).fetchone()
    return added


def ingest_bound(landing: Path, warehouse_db: Path, load_id: str = "ingest-bound") -> dict:
    """The bound's run on `warehouse_db` (it appends: give it a copy). Returns its seconds,
    from opening the warehouse to the commit, and each kind's steps and rows."""
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    with connect(warehouse_db) as con:
        # Each read call is numbered in its own order; the calls' rows may interleave.
        con.execute("set preserve_insertion_order = false")
        con.execute(DDL)
        con.execute(
            "create temp table bound_codes as select code_set, code "
            f"from read_csv('{REGISTER_CODES_SEED}', header = true, all_varchar = true)"
        )
        landing = landing.resolve()
        files = find_files(landing)
        con.begin()
        for kind in KINDS:
            step = time.perf_counter()
            found = stage(con, kind, landing, files[kind.name])
            found["read_check_seconds"] = round(time.perf_counter() - step, 3)
            step = time.perf_counter()
            stream = STREAMS[kind.name]
            found["rows_new"] = append(con, stream, load_id) if found["rows_read"] else 0
            found["append_seconds"] = round(time.perf_counter() - step, 3)
            figures[kind.name] = found
        con.commit()
    figures["seconds"] = round(time.perf_counter() - started, 3)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ingest_bound", description=__doc__.split("\n")[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument(
        "--warehouse", type=Path, required=True, help="a copy: the warehouse folder or its file"
    )
    parser.add_argument("detail", type=Path, nargs="?", help="also write the figures here (JSON)")
    args = parser.parse_args(argv)
    database = args.warehouse
    if database.is_dir():
        database = database / "warehouse.duckdb"
    figures = ingest_bound(args.landing, database)
    print(json.dumps(figures, indent=2))
    if args.detail:
        args.detail.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
