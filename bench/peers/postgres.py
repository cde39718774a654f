"""The PostgreSQL peer (the server on 127.0.0.1:5432): the events loaded with COPY into an
unlogged schema of its own, then the bare DuckDB peer's SQL (`bench.peers.sql`)."""

import time
from pathlib import Path

from bench.peers.sql import BY_SEN, PUPIL_ATTENDANCE, mart_sql

# Named, so that its statements can be found and ended after the peer was stopped.
PEER_APPLICATION = "attendance-bench-peer"
POSTGRES = (
    f"host=127.0.0.1 port=5432 user=postgres dbname=postgres application_name={PEER_APPLICATION}"
)


def run_postgres(source: Path, out: Path) -> dict[str, float]:
    """PostgreSQL (the server on 127.0.0.1:5432): load the events with COPY, then the same SQL.
    The load is timed apart from the queries."""
    import duckdb
    import psycopg
    import pyarrow as pa
    import pyarrow.parquet as pq

    timings: dict[str, float] = {}
    started = time.perf_counter()
    with psycopg.connect(POSTGRES) as pg:
        pg.execute("drop schema if exists attendance_bench cascade")
        pg.execute("create schema attendance_bench")
        duck = duckdb.connect()
        for table, columns in _TABLES.items():
            pg.execute(f"create unlogged table attendance_bench.{table} ({columns})")
            path = source / f"{table}.parquet" if table != "register_codes" else None
            query = (
                f"select * from read_csv('{source / 'register_codes.csv'}', all_varchar = true)"
                if path is None
                else f"select * from read_parquet('{path}')"
            )
            names = ", ".join(c.split()[0] for c in columns.split(", "))
            with pg.cursor().copy(
                f"copy attendance_bench.{table} ({names}) from stdin (format csv)"
            ) as copy:
                # In batches of 500,000 rows, so memory stays flat however large the store.
                for batch in duck.execute(f"select {names} from ({query})").to_arrow_reader(
                    500_000
                ):
                    copy.write(_csv_bytes(batch))
        pg.execute("analyze")
        timings["load_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        pg.execute("set work_mem = '1GB'")
        names = {
            "marks": "attendance_bench.mark_events",
            "pupils": "attendance_bench.pupil_events",
            "codes": "attendance_bench.register_codes",
        }
        pg.execute(
            "create unlogged table attendance_bench.enrolments as "
            + mart_sql(PUPIL_ATTENDANCE, **names)
        )
        by_sen = mart_sql(
            BY_SEN,
            schools="attendance_bench.school_events",
            enrolments="attendance_bench.enrolments",
        )
        for name, query in (
            ("pupil_attendance", "select * from attendance_bench.enrolments"),
            ("attendance_by_sen", by_sen),
        ):
            cursor = pg.execute(query)
            columns = [d.name for d in cursor.description]
            rows = cursor.fetchall()
            table = pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows])
            pq.write_table(table, out / f"{name}.parquet")
        timings["query_seconds"] = round(time.perf_counter() - started, 2)
        pg.execute("drop schema attendance_bench cascade")
    return timings


def stop_postgres() -> None:
    """After the postgres peer was stopped: its server-side statement would run on (a backend
    notices a lost client only when it next writes to it) and hold the schema's locks."""
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as pg:
        pg.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where application_name = %s and pid <> pg_backend_pid()",
            (PEER_APPLICATION,),
        )
        pg.execute("drop schema if exists attendance_bench cascade")


_EVENT_ORDER = (
    "transaction_time timestamptz, extracted_at timestamptz, ingested_at timestamptz, "
    "source_line integer"
)
# The tables the peer loads, with the columns its SQL reads (the export holds more).
_TABLES = {
    "mark_events": (
        f"urn text, upn text, session_date date, session text, code text, {_EVENT_ORDER}"
    ),
    "pupil_events": (
        f"urn text, upn text, sen_provision text, sen_primary_need text, {_EVENT_ORDER}"
    ),
    "school_events": f"urn text, la_code text, {_EVENT_ORDER}",
    "register_codes": "code_set text, code text, category text",
}


def _csv_bytes(batch) -> bytes:
    import io

    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    pacsv.write_csv(batch, buffer, write_options=pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()
