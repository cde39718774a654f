"""Read a round's staged files of one kind with DuckDB's own readers, many files at a time.

CSV files that share a header layout are read by one `read_csv` with declared text columns
(no sniffing: the rules decide what each value is); JSON Lines files by one `read_text`, split
into lines and parsed with DuckDB's JSON functions. The result is the temp table
`landed_rows`: one row per readable row, with its file and line, the school the file's path
names, the extract's time, every known column as text ('' when absent) and the known columns
the row had: what `rules.checks.check_rows` reads.

A row whose fields do not line up with the header is kept as a problem with its line and
reason and no values (MARTS: the quarantine keeps nothing of it). A file DuckDB cannot split
into rows (malformed quoting, a line over the limit, a value over the limit) is rejected
whole, with the line where reading failed.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from ingestion.contract import FileKind
from ingestion.intake import Intake
from ingestion.limits import Limits, describe

# The rejects DuckDB's CSV reader reports for a row that does not line up: quarantined.
_ROW_ERRORS = ("MISSING COLUMNS", "TOO MANY COLUMNS")
_FOUND = re.compile(r"Found: (\d+)")


@dataclass
class RoundRead:
    """What reading a round's files found besides their rows: rows that could not be read
    (file_no -> [(line, reason)]), files rejected whole (file_no -> reason) and the rows
    read of each JSON Lines file (its non-blank lines)."""

    problems: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)
    rows_read: dict[int, int] = field(default_factory=dict)


def read_round(
    con: duckdb.DuckDBPyConnection, kind: FileKind, members: Sequence[Intake], limits: Limits
) -> RoundRead:
    """Create temp table `landed_rows` with the rows of `members` (file_no: index in it)."""
    read = RoundRead()
    columns = ", ".join(f"{c} varchar" for c in kind.known_columns)
    con.execute(
        "create or replace temp table landed_rows (file_no integer, line integer, "
        f"file_urn varchar, extract_time timestamptz, {columns}, present varchar[])"
    )
    _register_files(con, members)
    try:
        layouts: dict[tuple, list[int]] = {}
        for number, member in enumerate(members):
            if member.is_jsonl:
                continue
            layout = (member.width, tuple(sorted(member.positions.items())))
            layouts.setdefault(layout, []).append(number)
        for numbers in layouts.values():
            try:
                _read_csv_files(con, kind, members, numbers, limits, read)
            except duckdb.Error:
                # Something in one of them stops the reader: each alone, to find which.
                for number in numbers:
                    try:
                        _read_csv_files(con, kind, members, [number], limits, read)
                    except duckdb.Error as error:
                        read.rejected[number] = _not_csv(error)
        jsonl = [n for n, m in enumerate(members) if m.is_jsonl]
        if jsonl:
            _read_jsonl_files(con, kind, members, jsonl, limits, read)
        _reject_long_values(con, kind, limits, read)
    finally:
        con.unregister("round_files")
    if read.rejected:
        gone = pa.table({"file_no": pa.array(list(read.rejected), pa.int32())})
        con.register("rejected_files", gone)
        con.execute("delete from landed_rows where file_no in (select file_no from rejected_files)")
        con.unregister("rejected_files")
    return read


def _register_files(con: duckdb.DuckDBPyConnection, members: Sequence[Intake]) -> None:
    con.register(
        "round_files",
        pa.table(
            {
                "file_no": pa.array(range(len(members)), pa.int32()),
                "staged": pa.array([str(m.staged) for m in members], pa.string()),
                "file_urn": pa.array([m.school for m in members], pa.string()),
                "extract_time": pa.array(
                    [m.extract_time for m in members], pa.timestamp("us", tz="UTC")
                ),
                "lines": pa.array([m.lines for m in members], pa.int32()),
            }
        ),
    )


def _read_csv_files(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    members: Sequence[Intake],
    numbers: list[int],
    limits: Limits,
    read: RoundRead,
) -> None:
    """One `read_csv` for files of one header layout; rows numbered by their lines."""
    first = members[numbers[0]]
    declared = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(first.width)) + "}"
    taken = ", ".join(
        (f"coalesce(c{first.positions[c]}, '')" if c in first.positions else "''") + f" as {c}"
        for c in kind.known_columns
    )
    paths = "[" + ", ".join(_quoted(str(members[n].staged)) for n in numbers) + "]"
    present = "[" + ", ".join(_quoted(c) for c in kind.known_columns if c in first.positions) + "]"
    con.execute("drop table if exists csv_rejects; drop table if exists csv_scans")
    con.execute(
        f"""
        create or replace temp table csv_scan as
        select filename as staged, {taken}
        from read_csv({paths}, header = true, auto_detect = false, columns = {declared},
            delim = ',', quote = '"', escape = '"', new_line = '\\n', strict_mode = true,
            null_padding = false, max_line_size = {limits.line_bytes}, filename = true,
            store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_scans')
        """
    )
    errors = con.execute(
        """
        select f.file_no, e.line, e.error_type, min(e.error_message)
        from csv_rejects as e
        join csv_scans as s using (scan_id, file_id)
        join round_files as f on f.staged = s.file_path
        group by all order by f.file_no, e.line
        """
    ).fetchall()
    refused_lines = []
    for number, line, error_type, message in errors:
        if error_type in _ROW_ERRORS:
            found = _FOUND.search(message or "")
            fields = found.group(1) if found else "another number of"
            reason = f"the row has {fields} fields but the header has {first.width}"
            read.problems.setdefault(number, []).append((line, reason))
            refused_lines.append((number, line))
        elif number not in read.rejected:
            read.rejected[number] = _unreadable(line, error_type, limits)
    _number_rows(con, kind, members, numbers, refused_lines, present, read)


def _number_rows(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    members: Sequence[Intake],
    numbers: list[int],
    refused_lines: list[tuple[int, int]],
    present: str,
    read: RoundRead,
) -> None:
    """Give each read row its line: the file's rows come in order, one per non-empty line
    after the header, less the lines refused. A file where the counts disagree (a quoted
    value that spans lines) is rejected rather than given wrong lines."""
    blank = [(n, line) for n in numbers for line in members[n].blank_lines]
    con.register(
        "skipped_lines",
        pa.table(
            {
                "file_no": pa.array([n for n, _ in blank + refused_lines], pa.int32()),
                "line": pa.array([line for _, line in blank + refused_lines], pa.int32()),
            }
        ),
    )
    con.register("csv_files", pa.table({"file_no": pa.array(numbers, pa.int32())}))
    try:
        con.execute(
            """
            create or replace temp table csv_lines as
            with all_lines as (
                select f.file_no, unnest(range(2, f.lines + 1)) as line
                from round_files as f join csv_files using (file_no)
            )
            select file_no, line,
                row_number() over (partition by file_no order by line) as ordinal
            from all_lines anti join skipped_lines using (file_no, line)
            """
        )
        con.execute(
            """
            create or replace temp table csv_rows as
            select f.file_no, row_number() over (partition by f.file_no order by s.rowid)
                as ordinal, s.*
            from csv_scan as s join round_files as f using (staged)
            """
        )
        mismatched = con.execute(
            """
            select coalesce(r.file_no, l.file_no), coalesce(l.first_line, 2)
            from (select file_no, count(*) as n from csv_rows group by file_no) as r
            full join (select file_no, count(*) as n, min(line) as first_line
                from csv_lines group by file_no) as l using (file_no)
            where r.n is distinct from l.n
            """
        ).fetchall()
    finally:
        con.unregister("skipped_lines")
        con.unregister("csv_files")
    for number, _ in mismatched:
        read.rejected.setdefault(
            number,
            "a quoted value spans more than one line, so its rows cannot be told apart: "
            "register extracts hold one row per line; export the file again",
        )
    names = ", ".join(f"r.{c}" for c in kind.known_columns)
    con.execute(
        f"""
        insert into landed_rows
        select r.file_no, l.line, f.file_urn, f.extract_time, {names}, {present}::varchar[]
        from csv_rows as r
        join csv_lines as l using (file_no, ordinal)
        join round_files as f on f.file_no = r.file_no
        """
    )
    con.execute("drop table csv_rows; drop table csv_lines; drop table csv_scan")


def _read_jsonl_files(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    members: Sequence[Intake],
    numbers: list[int],
    limits: Limits,
    read: RoundRead,
) -> None:
    paths = "[" + ", ".join(_quoted(str(members[n].staged)) for n in numbers) + "]"
    con.execute(
        f"""
        create or replace temp table jsonl_lines as
        with split as (
            select filename as staged, string_split(content, chr(10)) as parts
            from read_text({paths})
        ),
        lines as (
            select staged, unnest(parts) as source, generate_subscripts(parts, 1) as line
            from split
        )
        select f.file_no, line, source
        from lines join round_files as f using (staged)
        where trim(source, ' ' || chr(9)) <> ''
        """
    )
    counted = con.execute("select file_no, count(*) from jsonl_lines group by file_no")
    read.rows_read.update({n: 0 for n in numbers} | dict(counted.fetchall()))
    for number, line in con.execute(
        f"select file_no, min(line) from jsonl_lines where strlen(source) > {limits.line_bytes} "
        "group by file_no"
    ).fetchall():
        read.rejected[number] = _unreadable(line, "LINE SIZE OVER MAXIMUM", limits)
    con.execute(
        f"""
        create or replace temp table jsonl_objects as
        select file_no, line,
            case when not json_valid(source) then 'the line is not valid JSON'
                when json_type(source) <> 'OBJECT' then 'the line is not a JSON object'
            end as problem,
            source
        from jsonl_lines where strlen(source) <= {limits.line_bytes}
        """
    )
    for number, line, problem in con.execute(
        "select file_no, line, problem from jsonl_objects where problem is not null "
        "order by file_no, line"
    ).fetchall():
        read.problems.setdefault(number, []).append((line, problem))
    _place_json_values(con, kind, read)
    con.execute("drop table jsonl_lines; drop table jsonl_objects")


def _place_json_values(con: duckdb.DuckDBPyConnection, kind: FileKind, read: RoundRead) -> None:
    """Each object's known keys (in any case, spaces around them ignored) as text: a string
    as it is, true/false and numbers as written, null as ''; an object or list as '{…}' or
    '[…]', never its content (it may hold a name), which the rules refuse."""
    values = ", ".join(
        f"""coalesce(case json_type(values_[list_position(keys_, '{c}')])
            when 'VARCHAR' then json_extract_string(values_[list_position(keys_, '{c}')], '$')
            when 'OBJECT' then '{{…}}' when 'ARRAY' then '[…]'
            else cast(values_[list_position(keys_, '{c}')] as varchar) end, '') as {c}"""
        for c in kind.known_columns
    )
    known = "[" + ", ".join(_quoted(c) for c in kind.known_columns) + "]"
    con.execute(
        """
        create or replace temp table jsonl_keys as
        select file_no, line, source,
            list_transform(json_keys(source), lambda k: lower(trim(k))) as keys_
        from jsonl_objects where problem is null
        """
    )
    for number, line, key in con.execute(
        f"""
        select file_no, line, list_filter(keys_, lambda k: list_contains({known}, k)
            and len(list_filter(keys_, lambda j: j = k)) > 1)[1]
        from jsonl_keys where len(list_distinct(keys_)) < len(keys_) order by file_no, line
        """
    ).fetchall():
        which = f"column {key}" if key else "a column"
        read.problems.setdefault(number, []).append(
            (line, f"the object names {which} more than once: each column must be named once")
        )
    con.execute(
        f"""
        insert into landed_rows
        with parsed as (
            select file_no, line, keys_,
                map_values(json_transform(source, '"MAP(VARCHAR, JSON)"')) as values_
            from jsonl_keys where len(list_distinct(keys_)) = len(keys_)
        )
        select p.file_no, p.line, f.file_urn, f.extract_time, {values},
            list_filter({known}, lambda c: list_contains(keys_, c))
        from parsed as p join round_files as f using (file_no)
        """
    )
    con.execute("drop table jsonl_keys")


def _reject_long_values(
    con: duckdb.DuckDBPyConnection, kind: FileKind, limits: Limits, read: RoundRead
) -> None:
    too_long = " or ".join(f"strlen({c}) > {limits.field_bytes}" for c in kind.known_columns)
    for number, line in con.execute(
        f"select file_no, min(line) from landed_rows where {too_long} group by file_no"
    ).fetchall():
        read.rejected.setdefault(
            number,
            f"line {line} holds a value longer than {describe(limits.field_bytes)} "
            "(the limit is set by ATTENDANCE_MAX_FIELD_BYTES)",
        )


def _unreadable(line: int, error_type: str, limits: Limits) -> str:
    if error_type == "LINE SIZE OVER MAXIMUM":
        return (
            f"line {line} is longer than {describe(limits.line_bytes)} "
            "(the limit is set by ATTENDANCE_MAX_LINE_BYTES)"
        )
    if error_type in ("UNQUOTED VALUE", "UNTERMINATED QUOTES"):
        return (
            f"line {line}: a quote is never closed, or text follows a closing quote: "
            "fix the quoting and send the file again (no row of it was read)"
        )
    return f"line {line} cannot be read as CSV ({error_type.lower()}): no row of the file was read"


def _not_csv(error: duckdb.Error) -> str:
    # DuckDB's message may quote the line it stopped at: only its first words are kept.
    what = str(error).split(":", 1)[0].strip().lower() or "error"
    return f"the file cannot be read as CSV ({what}): no row of it was read"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
