"""Read a round's staged files of one kind with DuckDB's own CSV reader, many files at a time.

CSV files that share a header layout are read by one `read_csv` with declared text columns
(no sniffing: the rules decide what each value is). JSON Lines files are read by the same
reader as lines of one text column, then parsed in SQL (`json_lines.py`). The result is the
temp table `landed_rows`: one row per readable row, with its file and line, the school the
file's path names, the extract's time, every known column as text ('' when absent) and the
known columns the row had: what `rules.checks.check_rows` reads.

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
from ingestion.json_lines import place_json_values
from ingestion.limits import Limits, describe

# The rejects DuckDB's CSV reader reports for a row that does not line up: quarantined.
_ROW_ERRORS = ("MISSING COLUMNS", "TOO MANY COLUMNS")
_FOUND = re.compile(r"Found: (\d+)")
# JSON Lines are read as one column split at a character valid JSON never holds raw.
_NO_DELIMITER = "chr(1)"


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
        groups: dict[tuple, list[int]] = {}
        for number, member in enumerate(members):
            layout = (member.width, tuple(sorted(member.positions.items())))
            groups.setdefault(("jsonl",) if member.is_jsonl else layout, []).append(number)
        for numbers in groups.values():
            try:
                _read_files(con, kind, members, numbers, limits, read)
            except duckdb.Error:
                # Something in one of them stops the reader: each alone, to find which.
                for number in numbers:
                    try:
                        _read_files(con, kind, members, [number], limits, read)
                    except duckdb.Error as error:
                        read.rejected[number] = _not_readable(error)
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
    micros = [int(m.extract_time.timestamp() * 1_000_000) for m in members]
    con.register(
        "round_files",
        pa.table(
            {
                "file_no": pa.array(range(len(members)), pa.int32()),
                "staged": pa.array([str(m.staged) for m in members], pa.string()),
                "file_urn": pa.array([m.school for m in members], pa.string()),
                "extract_time": pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                "lines": pa.array([m.lines for m in members], pa.int32()),
                "first_line": pa.array([1 if m.is_jsonl else 2 for m in members], pa.int32()),
            }
        ),
    )


def _read_files(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    members: Sequence[Intake],
    numbers: list[int],
    limits: Limits,
    read: RoundRead,
) -> None:
    """One `read_csv` for files of one layout (all JSON Lines files are one layout)."""
    first = members[numbers[0]]
    if first.is_jsonl:
        declared, taken = "{'source': 'VARCHAR'}", "source"
        options = f"header = false, delim = {_NO_DELIMITER}, quote = '', escape = ''"
    else:
        declared = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(first.width)) + "}"
        taken = ", ".join(
            (f"coalesce(c{first.positions[c]}, '')" if c in first.positions else "''") + f" as {c}"
            for c in kind.known_columns
        )
        options = "header = true, delim = ',', quote = '\"', escape = '\"'"
    paths = "[" + ", ".join(_quoted(str(members[n].staged)) for n in numbers) + "]"
    con.execute("drop table if exists read_rejects; drop table if exists read_scans")
    con.execute(
        f"""
        create or replace temp table scanned as
        select filename as staged, {taken}
        from read_csv({paths}, {options}, auto_detect = false, columns = {declared},
            new_line = '\\n', strict_mode = true, null_padding = false,
            max_line_size = {limits.line_bytes}, filename = true,
            store_rejects = true, rejects_table = 'read_rejects', rejects_scan = 'read_scans')
        """
    )
    refused = _refused_lines(con, first, limits, read)
    _number_rows(con, members, numbers, refused, read)
    if first.is_jsonl:
        place_json_values(con, kind, read)
    else:
        names = ", ".join(f"n.{c}" for c in kind.known_columns)
        present = [c for c in kind.known_columns if c in first.positions]
        con.execute(
            f"""
            insert into landed_rows
            select n.file_no, n.line, f.file_urn, f.extract_time, {names}, ?::varchar[]
            from numbered as n join round_files as f using (file_no)
            """,
            [present],
        )
    con.execute("drop table numbered")


def _refused_lines(
    con: duckdb.DuckDBPyConnection, first: Intake, limits: Limits, read: RoundRead
) -> list[tuple[int, int]]:
    """The lines DuckDB refused: a row that does not line up is a problem of its own (its
    line is clear); anything else rejects the file."""
    errors = con.execute(
        """
        select f.file_no, e.line, e.error_type, min(e.error_message)
        from read_rejects as e
        join read_scans as s using (scan_id, file_id)
        join round_files as f on f.staged = s.file_path
        group by all order by f.file_no, e.line
        """
    ).fetchall()
    refused = []
    for number, line, error_type, message in errors:
        if error_type in _ROW_ERRORS:
            if first.is_jsonl:
                reason = "the line is not valid JSON"
            else:
                found = _FOUND.search(message or "")
                fields = found.group(1) if found else "another number of"
                reason = f"the row has {fields} fields but the header has {first.width}"
            read.problems.setdefault(number, []).append((line, reason))
            refused.append((number, line))
        elif number not in read.rejected:
            read.rejected[number] = _unreadable(line, error_type, limits)
    return refused


def _number_rows(
    con: duckdb.DuckDBPyConnection,
    members: Sequence[Intake],
    numbers: list[int],
    refused: list[tuple[int, int]],
    read: RoundRead,
) -> None:
    """Create `numbered`: the scanned rows with their file and line. A file's rows come in
    order, one per non-empty line after the header, less the lines refused, so most files'
    rows are numbered by position alone. A file where the counts disagree (a quoted value
    that spans lines) is rejected rather than given wrong lines."""
    # DuckDB skips an empty line of a CSV file, but reads one of a one-column file as a row.
    skipped = [
        (n, line) for n in numbers if not members[n].is_jsonl for line in members[n].blank_lines
    ]
    skipped += refused
    con.register(
        "skipped_lines",
        pa.table(
            {
                "file_no": pa.array([n for n, _ in skipped], pa.int32()),
                "line": pa.array([line for _, line in skipped], pa.int32()),
            }
        ),
    )
    try:
        # The lines of the few files with lines skipped, in order (for the rest, position).
        con.execute(
            """
            create or replace temp table line_map as
            with all_lines as (
                select file_no, unnest(range(first_line, lines + 1)) as line
                from round_files
                where file_no in (select file_no from skipped_lines)
            )
            select file_no, line,
                row_number() over (partition by file_no order by line) - 1 as ordinal
            from all_lines anti join skipped_lines using (file_no, line)
            """
        )
        expected = dict(
            con.execute("select file_no, count(*) from line_map group by all").fetchall()
        )
    finally:
        con.unregister("skipped_lines")
    con.execute(
        """
        create or replace temp table numbered as
        with firsts as (
            select staged, min(rowid) as first_row from scanned group by staged
        ),
        placed as (
            select f.file_no, f.first_line, s.rowid - firsts.first_row as ordinal, s.*
            from scanned as s join firsts using (staged) join round_files as f using (staged)
        )
        select p.* exclude (staged, first_line),
            coalesce(m.line, p.ordinal + p.first_line) as line
        from placed as p left join line_map as m using (file_no, ordinal)
        """
    )
    counted = dict(con.execute("select file_no, count(*) from numbered group by all").fetchall())
    with_skips = {n for n, _ in skipped}
    for number in numbers:
        member = members[number]
        if number in with_skips:
            want = expected.get(number, 0)
        else:
            want = member.lines - (0 if member.is_jsonl else 1)
        if counted.get(number, 0) != want:
            read.rejected.setdefault(
                number,
                "a quoted value spans more than one line, so its rows cannot be told apart: "
                "register extracts hold one row per line; export the file again",
            )
    con.execute("drop table scanned; drop table line_map")


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
    return f"line {line} cannot be read ({error_type.lower()}): no row of the file was read"


def _not_readable(error: duckdb.Error) -> str:
    # DuckDB's message may quote the line it stopped at: only its first words are kept.
    what = str(error).split(":", 1)[0].strip().lower() or "error"
    return f"the file cannot be read ({what}): no row of it was read"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
