"""The warehouse's event store: append-only event tables plus the ingest audit and quarantine.

Nothing here updates or deletes an event row. A row from an extract becomes an event only when
it is news: the first sighting of a stream's state, or a change from the state in force at the
row's transaction time. Everything else is a duplicate.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ingestion.contract import MARKS, PUPILS, SCHOOLS, FileKind

DDL = """
create schema if not exists events;
create schema if not exists ops;

create table if not exists events.school_events (
    event_id varchar not null,
    event_type varchar not null,
    urn varchar not null,
    la_code varchar not null,
    school_name varchar not null,
    phase varchar,
    transaction_time timestamptz not null,
    extracted_at timestamptz not null,
    ingested_at timestamptz not null,
    load_id varchar not null,
    source_file varchar not null,
    source_line integer not null
);

create table if not exists events.pupil_events (
    event_id varchar not null,
    event_type varchar not null,
    urn varchar not null,
    upn varchar not null,
    valid_from date not null,
    date_of_birth date not null,
    sex varchar,
    ncy varchar,
    admission_date date not null,
    leaving_date date,
    sen_provision varchar not null,
    sen_primary_need varchar,
    fsm_eligible boolean,
    looked_after boolean,
    child_in_need boolean,
    child_protection_plan boolean,
    transaction_time timestamptz not null,
    extracted_at timestamptz not null,
    ingested_at timestamptz not null,
    load_id varchar not null,
    source_file varchar not null,
    source_line integer not null
);

create table if not exists events.mark_events (
    event_id varchar not null,
    event_type varchar not null,
    urn varchar not null,
    upn varchar not null,
    session_date date not null,
    session varchar not null,
    code varchar,
    minutes_late integer,
    transaction_time timestamptz not null,
    extracted_at timestamptz not null,
    ingested_at timestamptz not null,
    load_id varchar not null,
    source_file varchar not null,
    source_line integer not null
);

create table if not exists ops.ingest_audit (
    path varchar not null,
    sha256 varchar not null,
    rows_read integer not null,
    rows_new integer not null,
    rows_duplicate integer not null,
    rows_quarantined integer not null,
    rejected boolean not null,
    reason varchar,
    ingested_at timestamptz not null,
    load_id varchar not null
);

-- The days each school is expected open (ingestion/school_calendar), rewritten each run.
create table if not exists ops.school_calendar (
    urn varchar not null,
    school_day date not null
);

create table if not exists ops.quarantine (
    path varchar not null,
    line integer not null,
    reason varchar not null,
    raw_record varchar not null,
    ingested_at timestamptz not null,
    load_id varchar not null
);
"""


@dataclass(frozen=True)
class EventStream:
    """How one kind of extract row becomes events."""

    kind: FileKind
    table: str
    key: tuple[str, ...]
    # The state whose change is news. Rows with equal state in a row of history are one event.
    state: tuple[str, ...]
    first_event: str
    change_event: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The event columns of the stream's kind (ingestion/contract.py)."""
        return self.kind.event_columns


SCHOOL_STREAM = EventStream(
    kind=SCHOOLS,
    table="events.school_events",
    key=("urn",),
    state=("la_code", "school_name", "phase"),
    first_event="school_registered",
    change_event="school_changed",
)
PUPIL_STREAM = EventStream(
    kind=PUPILS,
    table="events.pupil_events",
    key=("urn", "upn"),
    # valid_from is left out: without an effective_date it is each extract's own date.
    state=(
        "date_of_birth",
        "sex",
        "ncy",
        "admission_date",
        "leaving_date",
        "sen_provision",
        "sen_primary_need",
        "fsm_eligible",
        "looked_after",
        "child_in_need",
        "child_protection_plan",
    ),
    first_event="admitted",
    change_event="characteristics_changed",
)
MARK_STREAM = EventStream(
    kind=MARKS,
    table="events.mark_events",
    key=("urn", "upn", "session_date", "session"),
    state=("code",),
    first_event="mark_recorded",
    change_event="mark_changed",
)


# Each kind's stream, by the kind's name.
STREAMS = {stream.kind.name: stream for stream in (SCHOOL_STREAM, PUPIL_STREAM, MARK_STREAM)}


def create_store(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def append_news(
    con: duckdb.DuckDBPyConnection,
    stream: EventStream,
    incoming: str,
    load_id: str,
    source_files: Sequence[str],
) -> list[int]:
    """Append the rows of the `incoming` relation that are news; returns how many, per file.

    `incoming` has a `file_no` column: the index in `source_files` of the row's file. Incoming
    rows are placed in each stream's history by transaction time (ties: the later extract
    wins), so an old extract that arrives late adds only what was never seen. One call reads
    the stored stream once for all the files, so it gives what one call per file in turn
    would only when no two of the files share a stream key (`ingest` makes its rounds so).
    """
    key = ", ".join(stream.key)
    as_text = {c: f"coalesce(cast({c} as varchar), '')" for c in stream.state}
    # Compared as a struct, not as a hash: hashing every stored row of the keys cost more than
    # the comparison. The event id keeps its md5 of the state, computed for the news alone.
    state = "struct_pack(" + ", ".join(f"{c} := {t}" for c, t in as_text.items()) + ")"
    state_hash = f"md5(concat_ws('|', {', '.join(as_text.values())}))"
    columns = ", ".join(stream.columns)
    event_type = f"""case
        when previous_state is null then '{stream.first_event}'
        {
        "when leaving_date is not null and previous_leaving is null then 'left'"
        if stream is PUPIL_STREAM
        else ""
    }
        else '{stream.change_event}' end"""
    previous_leaving = (
        ", lag(leaving_date) over history as previous_leaving" if stream is PUPIL_STREAM else ""
    )
    known_rows = _stored_rows_bounds(con, stream, incoming)
    con.execute(
        f"""
        create or replace temp table news as
        with incoming_rows as (
            select *, {state} as state from {incoming}
        ),
        known as (
            select {columns}, transaction_time, extracted_at, {state} as state,
                null::integer as line, null::integer as file_no, false as is_incoming
            from {stream.table}
            where {known_rows}
                -- Keys hashed to one integer: a semi-join on the key's strings took longer.
                -- A hash shared by another key only lets a row through that lands in another
                -- partition of the window below.
                and hash({key}) in (select hash({key}) from incoming_rows)
        ),
        history as (
            select {columns}, transaction_time, extracted_at, state, line, file_no,
                is_incoming
            from known
            union all
            select {columns}, transaction_time, extracted_at, state, line, file_no,
                true as is_incoming
            from incoming_rows
        ),
        placed as (
            select *,
                lag(state) over history as previous_state{previous_leaving}
            from history
            window history as (
                partition by {key}
                order by transaction_time, extracted_at, is_incoming, file_no, line
            )
        )
        select
            md5(concat_ws('|', '{stream.table}', {state_hash}, {key},
                cast(transaction_time as varchar), cast(extracted_at as varchar)))
                as event_id,
            {event_type} as event_type,
            {columns}, transaction_time, extracted_at,
            now() as ingested_at, ? as load_id, line as source_line, file_no
        from placed
        where is_incoming and previous_state is distinct from state
        """,
        [load_id],
    )
    files = pa.table(
        {
            "file_no": pa.array(range(len(source_files)), pa.int32()),
            "source_file": pa.array(source_files, pa.string()),
        }
    )
    con.register("news_files", files)
    try:
        con.execute(
            f"insert into {stream.table} by name "
            "select news.* exclude (file_no), news_files.source_file "
            "from news inner join news_files using (file_no) "
            # Stored in file order, as one file at a time would store them.
            "order by news.file_no, news.source_line"
        )
    finally:
        con.unregister("news_files")
    counts = dict(con.execute("select file_no, count(*) from news group by file_no").fetchall())
    con.execute("drop table news")
    return [int(counts.get(number, 0)) for number in range(len(source_files))]


def _stored_rows_bounds(con: duckdb.DuckDBPyConnection, stream: EventStream, incoming: str) -> str:
    """A filter on the stored stream that keeps every row the `incoming` keys could have, in
    literals, so that DuckDB skips the stored row groups outside it (their min/max statistics).
    Every stream's key starts with the school and rounds take files in school order, so a
    round reads the stored stream of its own schools, not the national one; the marks' dates
    keep a morning to the stored days of its extracts' window (marks are stored a morning at
    a time)."""
    bounded = ["urn", "session_date"] if "session_date" in stream.key else ["urn"]
    ranges = []
    for column in bounded:
        lowest, highest = con.execute(
            f"select cast(min({column}) as varchar), cast(max({column}) as varchar) from {incoming}"
        ).fetchone()
        if lowest is None:
            return "false"
        ranges.append(f"{column} between {_literal(lowest)} and {_literal(highest)}")
    return " and ".join(ranges)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
