"""JSON Lines rows: each line's object parsed in SQL into the known columns as text.

A line's keys are read in any case, spaces around them ignored. Values become text as the
CSV columns are: a string as it is, true/false and numbers as written, null as ''. An
object or list given as a value becomes '{…}' or '[…]', never its content (it may hold a
name), and the rules refuse it. Most files have one key list on every line (one "shape"):
the keys are normalised once per shape, and a line whose keys are already in the contract's
spelling is parsed once.
"""

import duckdb

from ingestion.contract import FileKind


def place_json_values(con: duckdb.DuckDBPyConnection, kind: FileKind, read) -> None:  # noqa: ANN001
    """Insert into `landed_rows` the objects among the lines of `numbered` (file_no, line,
    source); blank lines are not rows, and lines that are not objects are problems."""
    known = kind.known_columns
    paths = "[" + ", ".join(f"'$.\"{c}\"'" for c in known) + "]"
    con.execute(
        """
        create or replace temp table json_rows as
        select file_no, line, source,
            case when not json_valid(source) then 'the line is not valid JSON'
                when json_type(source) <> 'OBJECT' then 'the line is not a JSON object'
            end as problem
        from numbered where trim(source, ' ' || chr(9)) <> ''
        """
    )
    for number, rows in con.execute(
        "select file_no, count(*) from json_rows group by all"
    ).fetchall():
        read.rows_read[number] = rows + len(read.problems.get(number, []))
    for number, line, problem in con.execute(
        "select file_no, line, problem from json_rows where problem is not null order by all"
    ).fetchall():
        read.problems.setdefault(number, []).append((line, problem))
    con.execute(
        f"""
        create or replace temp table json_objects as
        select file_no, line, source, json_keys(source) as raw_keys,
            json_extract(source, {paths}) as plain_values
        from json_rows where problem is null
        """
    )
    _shapes(con, known)
    for number, line, key in con.execute(
        """
        select o.file_no, o.line, s.repeated from json_objects as o join json_shapes as s
            on o.raw_keys = s.raw_keys
        where s.repeated is not null order by all
        """
    ).fetchall():
        which = f"column {key}" if key else "a column"
        read.problems.setdefault(number, []).append(
            (line, f"the object names {which} more than once: each column must be named once")
        )
    # Keys in the contract's spelling: the values `json_extract` took by path; other
    # spellings: the values found by position among the object's normalised keys.
    by_path = [f"o.plain_values[{i + 1}]" for i in range(len(known))]
    by_key = [
        f"map_values(json_transform(o.source, '\"MAP(VARCHAR, JSON)\"'))"
        f"[list_position(s.keys_, '{c}')]"
        for c in known
    ]
    values = ", ".join(
        f"case when s.plain then {_as_text(a)} else {_as_text(b)} end as {c}"
        for a, b, c in zip(by_path, by_key, known, strict=True)
    )
    con.execute(
        f"""
        insert into landed_rows
        select o.file_no, o.line, f.file_urn, f.extract_time, {values}, s.present
        from json_objects as o
        join json_shapes as s on o.raw_keys = s.raw_keys
        join round_files as f on f.file_no = o.file_no
        where s.repeated is null
        """
    )
    con.execute("drop table json_rows; drop table json_objects; drop table json_shapes")


def _shapes(con: duckdb.DuckDBPyConnection, known: tuple[str, ...]) -> None:
    """`json_shapes`: each distinct key list, its keys normalised, whether they are already
    in the contract's spelling, the known columns it has, and a known key it repeats."""
    listed = "[" + ", ".join(f"'{c}'" for c in known) + "]"
    con.execute(
        f"""
        create or replace temp table json_shapes as
        with distinct_shapes as (
            select distinct raw_keys from json_objects
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
