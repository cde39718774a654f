"""JSON Lines rows: each line's object parsed in SQL into the known columns as text.

A line's keys are read in any case, spaces around them ignored. Values become text as the
CSV columns are: a string as it is, true/false and numbers as written, null as ''. An
object or list given as a value becomes '{…}' or '[…]', never its content (it may hold a
name), and the rules refuse it. Most files have one key list on every line (one "shape"):
keys are normalised once per shape, and a line whose keys are already in the contract's
spelling is parsed by path, a few functions a line and no more.
"""

from typing import TYPE_CHECKING

import duckdb

from ingestion.contract import FileKind

if TYPE_CHECKING:
    from ingestion.round_reader import RoundRead


def place_json_values(con: duckdb.DuckDBPyConnection, kind: FileKind, read: "RoundRead") -> None:
    """Insert into `landed_rows` the objects among the lines of `numbered` (file_no, line,
    source); blank lines are not rows, and lines that are not objects are problems."""
    known = kind.known_columns
    paths = "[" + ", ".join(f"'$.\"{c}\"'" for c in known) + "]"
    con.execute(
        f"""
        create or replace temp table json_parsed as
        with typed as (
            select file_no, line, source, try(json_type(source)) as line_type
            from numbered where trim(source, ' ' || chr(9)) <> ''
        )
        select file_no, line,
            case when line_type is null then 'the line is not valid JSON'
                when line_type <> 'OBJECT' then 'the line is not a JSON object'
            end as problem,
            case when problem is null then json_keys(source) end as raw_keys,
            case when problem is null then json_extract_string(source, {paths}) end as texts
        from typed
        """
    )
    counted = con.execute("select file_no, count(*) from json_parsed group by all").fetchall()
    for number, rows in counted:
        read.rows_read[number] = rows + len(read.problems.get(number, []))
    for number, line, problem in con.execute(
        "select file_no, line, problem from json_parsed where problem is not null order by all"
    ).fetchall():
        read.problems.setdefault(number, []).append((line, problem))
    _shapes(con, known)
    for number, line, key in con.execute(
        """
        select p.file_no, p.line, s.repeated from json_parsed as p join json_shapes as s
            on p.raw_keys = s.raw_keys
        where s.repeated is not null order by all
        """
    ).fetchall():
        which = f"column {key}" if key else "a column"
        read.problems.setdefault(number, []).append(
            (line, f"the object names {which} more than once: each column must be named once")
        )
    # An object or list comes out as its JSON text: told from a string by being valid JSON
    # that starts with a bracket (only such values are parsed again).
    by_path = ", ".join(
        f"case when left(p.texts[{i + 1}], 1) in ('{{', '[') and json_valid(p.texts[{i + 1}]) "
        f"then (case left(p.texts[{i + 1}], 1) when '{{' then '{{…}}' else '[…]' end) "
        f"else coalesce(p.texts[{i + 1}], '') end as {c}"
        for i, c in enumerate(known)
    )
    _insert(con, by_path, "s.plain")
    # Keys in another spelling (rare): each value found by its key's place among the
    # object's normalised keys.
    value = (
        "map_values(json_transform(n.source, '\"MAP(VARCHAR, JSON)\"'))"
        "[list_position(s.keys_, '{}')]"
    )
    by_key = ", ".join(_as_text(value.format(c)) + f" as {c}" for c in known)
    _insert(con, by_key, "not s.plain", with_text=True)
    con.execute("drop table json_parsed; drop table json_shapes")


def _insert(
    con: duckdb.DuckDBPyConnection, values: str, shapes: str, with_text: bool = False
) -> None:
    """Insert into `landed_rows` the objects of the shapes `shapes` picks, less those that
    repeat a key; `with_text`: `values` reads the line's text (`n.source`)."""
    text = "join numbered as n on n.file_no = p.file_no and n.line = p.line" if with_text else ""
    con.execute(
        f"""
        insert into landed_rows
        select p.file_no, p.line, f.file_urn, f.extract_time, {values}, s.present
        from json_parsed as p
        join json_shapes as s on p.raw_keys = s.raw_keys
        join round_files as f on f.file_no = p.file_no
        {text}
        where {shapes} and s.repeated is null
        """
    )


def _shapes(con: duckdb.DuckDBPyConnection, known: tuple[str, ...]) -> None:
    """`json_shapes`: each distinct key list, its keys normalised, whether they are already
    in the contract's spelling, the known columns it has, and a known key it repeats."""
    listed = "[" + ", ".join(f"'{c}'" for c in known) + "]"
    con.execute(
        f"""
        create or replace temp table json_shapes as
        with distinct_shapes as (
            select distinct raw_keys from json_parsed where raw_keys is not null
        ),
        normalised as (
            select raw_keys, list_transform(raw_keys, lambda k: lower(trim(k))) as keys_
            from distinct_shapes
        )
        select raw_keys, keys_,
            keys_ = raw_keys as plain,
            list_filter({listed}, lambda c: list_contains(keys_, c)) as present,
            case when len(list_distinct(keys_)) < len(keys_) then coalesce(
                list_filter({listed},
                    lambda c: len(list_filter(keys_, lambda k: k = c)) > 1)[1], '')
            end as repeated
        from normalised
        """
    )


def _as_text(value: str) -> str:
    return f"""coalesce(case json_type({value})
        when 'VARCHAR' then json_extract_string({value}, '$') when 'NULL' then ''
        when 'OBJECT' then '{{…}}' when 'ARRAY' then '[…]'
        else cast({value} as varchar) end, '')"""
