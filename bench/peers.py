"""The peers: `pupil_attendance` and `attendance_by_sen` as a user would otherwise compute them
from the same event store, each in its own process (for its peak memory):

    python -m bench.peers PEER INPUT_DIR OUTPUT_DIR DETAIL.json

INPUT_DIR holds the event tables as Parquet (`bench.workloads.export_events`) and the register
code list; each peer writes `pupil_attendance.parquet` and `attendance_by_sen.parquet` there
for `bench.compare`. The rules are MARTS.md's, as in the dbt models: the latest mark of each
session wins (transaction time, then extract, ingestion, line), code categories by code set,
possible = present + AEA + authorised + unauthorised, persistent at 10% and severe at 50% by
integer comparison, SEN provision as last reported, counts of 1 to 4 withheld.
"""

import json
import sys
import time
from pathlib import Path

# The marts' columns that every peer computes (rates are these divided; as_of is the run's).
PUPIL_COLUMNS = [
    "urn",
    "upn",
    "academic_year",
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_absence_sessions",
    "unauthorised_absence_sessions",
    "is_persistent_absence",
    "is_severe_absence",
    "sen_provision",
    "sen_primary_need",
]
SEN_COLUMNS = [
    "level",
    "area",
    "academic_year",
    "sen_provision",
    "schools",
    "enrolments",
    "possible_sessions",
    "absence_sessions",
    "persistent_absence_enrolments",
    "severe_absence_enrolments",
    "suppressed",
]
PEER_APPLICATION = "attendance-bench-peer"
POSTGRES = (
    f"host=127.0.0.1 port=5432 user=postgres dbname=postgres application_name={PEER_APPLICATION}"
)
SMALL = 5  # counts from 1 to SMALL - 1 are withheld (dbt var suppress_counts_below)
CODE_SET_2024_FROM = "2024-08-19"
CATEGORIES = ("present", "aea", "authorised", "unauthorised")

SQL_PUPIL_ATTENDANCE = """
with current_marks as (
    select urn, upn, session_date, code,
        case when session_date >= date '{code_set_from}' then '2024' else 'pre2024' end
            as code_set
    from (
        select *, row_number() over (
            partition by urn, upn, session_date, session
            order by transaction_time desc, extracted_at desc, ingested_at desc,
                source_line desc
        ) as newest
        from {marks}
    ) as m
    where newest = 1
),
categorised as (
    select m.urn, m.upn,
        case when extract(month from m.session_date) >= 9
            then extract(year from m.session_date)
            else extract(year from m.session_date) - 1 end as start_year,
        c.category
    from current_marks as m
    left join {codes} as c on c.code_set = m.code_set and c.code = m.code
),
counted as (
    select urn, upn, cast(start_year as integer) as start_year,
        count(*) filter (where category = 'present') as present_sessions,
        count(*) filter (where category = 'aea') as aea_sessions,
        count(*) filter (where category = 'authorised') as authorised_absence_sessions,
        count(*) filter (where category = 'unauthorised') as unauthorised_absence_sessions
    from categorised
    group by urn, upn, start_year
),
pupils as (
    select urn, upn, sen_provision, sen_primary_need from (
        select *, row_number() over (
            partition by urn, upn
            order by transaction_time desc, extracted_at desc, ingested_at desc,
                source_line desc
        ) as newest
        from {pupils}
    ) as p
    where newest = 1
),
measured as (
    select *,
        present_sessions + aea_sessions + authorised_absence_sessions
            + unauthorised_absence_sessions as possible_sessions,
        authorised_absence_sessions + unauthorised_absence_sessions as absence_sessions
    from counted
)
select m.urn, m.upn,
    cast(m.start_year as varchar) || '/' || right(cast(m.start_year + 1 as varchar), 2)
        as academic_year,
    cast(m.possible_sessions as integer) as possible_sessions,
    cast(m.present_sessions as integer) as present_sessions,
    cast(m.aea_sessions as integer) as aea_sessions,
    cast(m.authorised_absence_sessions as integer) as authorised_absence_sessions,
    cast(m.unauthorised_absence_sessions as integer) as unauthorised_absence_sessions,
    m.absence_sessions * 10 >= m.possible_sessions as is_persistent_absence,
    m.absence_sessions * 2 >= m.possible_sessions as is_severe_absence,
    p.sen_provision, p.sen_primary_need
from measured as m
left join pupils as p on p.urn = m.urn and p.upn = m.upn
where m.possible_sessions > 0
"""

SQL_BY_SEN = """
with schools as (
    select urn, la_code from (
        select *, row_number() over (
            partition by urn order by transaction_time desc, extracted_at desc,
                ingested_at desc, source_line desc
        ) as newest
        from {schools}
    ) as s
    where newest = 1
),
located as (
    select 'school' as level, urn as area, e.* from {enrolments} as e
    union all
    select 'la' as level, s.la_code as area, e.*
    from {enrolments} as e inner join schools as s on s.urn = e.urn
    where s.la_code is not null
),
grouped as (
    select level, area, academic_year, sen_provision,
        count(distinct urn) as schools,
        count(*) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(authorised_absence_sessions + unauthorised_absence_sessions) as absence_sessions,
        sum(case when is_persistent_absence then 1 else 0 end) as persistent,
        sum(case when is_severe_absence then 1 else 0 end) as severe
    from located
    group by level, area, academic_year, sen_provision
),
withheld as (
    select *,
        enrolments between 1 and {small} as group_withheld,
        enrolments between 1 and {small} or persistent between 1 and {small}
            as persistent_withheld,
        enrolments between 1 and {small} or severe between 1 and {small} as severe_withheld
    from grouped
)
select level, area, academic_year, sen_provision,
    cast(schools as integer) as schools,
    cast(case when group_withheld then null else enrolments end as integer) as enrolments,
    cast(case when group_withheld then null else possible_sessions end as integer)
        as possible_sessions,
    cast(case when group_withheld then null else absence_sessions end as integer)
        as absence_sessions,
    cast(case when persistent_withheld then null else persistent end as integer)
        as persistent_absence_enrolments,
    cast(case when severe_withheld then null else severe end as integer)
        as severe_absence_enrolments,
    group_withheld or persistent_withheld or severe_withheld as suppressed
from withheld
"""


def _sql(template: str, **names: str) -> str:
    return template.format(code_set_from=CODE_SET_2024_FROM, small=SMALL - 1, **names)


def run_duckdb(source: Path, out: Path) -> None:
    """The bare DuckDB lower bound: the one query over the Parquet files, no framework."""
    import duckdb

    con = duckdb.connect()
    names = {
        "marks": f"read_parquet('{source / 'mark_events.parquet'}')",
        "pupils": f"read_parquet('{source / 'pupil_events.parquet'}')",
        "codes": f"read_csv('{source / 'register_codes.csv'}', all_varchar = true)",
    }
    con.execute(f"create temp table enrolments as {_sql(SQL_PUPIL_ATTENDANCE, **names)}")
    con.execute(f"copy enrolments to '{out / 'pupil_attendance.parquet'}'")
    schools = f"read_parquet('{source / 'school_events.parquet'}')"
    by_sen = _sql(SQL_BY_SEN, schools=schools, enrolments="enrolments")
    con.execute(f"copy ({by_sen}) to '{out / 'attendance_by_sen.parquet'}'")


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
        for table, columns in _PG_TABLES.items():
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
            + _sql(SQL_PUPIL_ATTENDANCE, **names)
        )
        by_sen = _sql(
            SQL_BY_SEN,
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
_PG_TABLES = {
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


def run_polars(source: Path, out: Path) -> None:
    import polars as pl

    order = ["transaction_time", "extracted_at", "ingested_at", "source_line"]
    codes = pl.scan_csv(source / "register_codes.csv", infer_schema=False).select(
        "code_set", "code", "category"
    )
    year = pl.col("session_date").dt.year()
    start_year = pl.when(pl.col("session_date").dt.month() >= 9).then(year).otherwise(year - 1)
    marks = (
        pl.scan_parquet(source / "mark_events.parquet")
        .sort(order, descending=True)
        .unique(subset=["urn", "upn", "session_date", "session"], keep="first")
        .with_columns(
            code_set=pl.when(pl.col("session_date") >= pl.date(2024, 8, 19))
            .then(pl.lit("2024"))
            .otherwise(pl.lit("pre2024")),
            start_year=start_year.cast(pl.Int32),
        )
        .join(codes, on=["code_set", "code"], how="left")
    )
    counted = marks.group_by("urn", "upn", "start_year").agg(
        [
            (pl.col("category") == name).sum().cast(pl.Int32).alias(column)
            for name, column in zip(CATEGORIES, _COUNT_COLUMNS, strict=True)
        ]
    )
    pupils = (
        pl.scan_parquet(source / "pupil_events.parquet")
        .sort(order, descending=True)
        .unique(subset=["urn", "upn"], keep="first")
        .select("urn", "upn", "sen_provision", "sen_primary_need")
    )
    possible = pl.sum_horizontal(_COUNT_COLUMNS)
    absence = pl.col("authorised_absence_sessions") + pl.col("unauthorised_absence_sessions")
    enrolments = (
        counted.with_columns(possible_sessions=possible.cast(pl.Int32))
        .filter(pl.col("possible_sessions") > 0)
        .with_columns(
            academic_year=pl.format(
                "{}/{}",
                pl.col("start_year"),
                (pl.col("start_year") + 1).cast(pl.Utf8).str.slice(2, 2),
            ),
            is_persistent_absence=absence * 10 >= pl.col("possible_sessions"),
            is_severe_absence=absence * 2 >= pl.col("possible_sessions"),
        )
        .join(pupils, on=["urn", "upn"], how="left")
        .select(PUPIL_COLUMNS)
        .collect()
    )
    enrolments.write_parquet(out / "pupil_attendance.parquet")
    schools = (
        pl.scan_parquet(source / "school_events.parquet")
        .sort(order, descending=True)
        .unique(subset=["urn"], keep="first")
        .select("urn", "la_code")
        .filter(pl.col("la_code").is_not_null())
    )
    located = pl.concat(
        [
            enrolments.lazy().with_columns(level=pl.lit("school"), area=pl.col("urn")),
            enrolments.lazy()
            .join(schools, on="urn", how="inner")
            .with_columns(level=pl.lit("la"), area=pl.col("la_code"))
            .drop("la_code"),
        ]
    )
    small = pl.lit(SMALL)

    def is_small(column: str) -> pl.Expr:
        return (pl.col(column) >= 1) & (pl.col(column) < small)

    grouped = located.group_by("level", "area", "academic_year", "sen_provision").agg(
        schools=pl.col("urn").n_unique().cast(pl.Int32),
        enrolments=pl.len().cast(pl.Int32),
        possible_sessions=pl.col("possible_sessions").sum().cast(pl.Int32),
        absence_sessions=(
            pl.col("authorised_absence_sessions") + pl.col("unauthorised_absence_sessions")
        )
        .sum()
        .cast(pl.Int32),
        persistent=pl.col("is_persistent_absence").sum().cast(pl.Int32),
        severe=pl.col("is_severe_absence").sum().cast(pl.Int32),
    )
    group = is_small("enrolments")
    persistent = group | is_small("persistent")
    severe = group | is_small("severe")
    by_sen = grouped.with_columns(
        enrolments=pl.when(group).then(None).otherwise(pl.col("enrolments")),
        possible_sessions=pl.when(group).then(None).otherwise(pl.col("possible_sessions")),
        absence_sessions=pl.when(group).then(None).otherwise(pl.col("absence_sessions")),
        persistent_absence_enrolments=pl.when(persistent).then(None).otherwise("persistent"),
        severe_absence_enrolments=pl.when(severe).then(None).otherwise("severe"),
        suppressed=group | persistent | severe,
    ).select(SEN_COLUMNS)
    by_sen.collect().write_parquet(out / "attendance_by_sen.parquet")


_COUNT_COLUMNS = [
    "present_sessions",
    "aea_sessions",
    "authorised_absence_sessions",
    "unauthorised_absence_sessions",
]


def run_pandas(source: Path, out: Path) -> None:
    """Idiomatic vectorised pandas: sort and drop duplicates, merge, groupby."""
    import numpy as np
    import pandas as pd

    order = ["transaction_time", "extracted_at", "ingested_at", "source_line"]
    marks = pd.read_parquet(
        source / "mark_events.parquet",
        columns=["urn", "upn", "session_date", "session", "code", *order],
    )
    marks = marks.sort_values(order, ascending=False).drop_duplicates(
        ["urn", "upn", "session_date", "session"], keep="first"
    )
    dates = pd.to_datetime(marks["session_date"])
    marks["code_set"] = np.where(dates >= pd.Timestamp(CODE_SET_2024_FROM), "2024", "pre2024")
    marks["start_year"] = np.where(dates.dt.month >= 9, dates.dt.year, dates.dt.year - 1)
    codes = pd.read_csv(source / "register_codes.csv", dtype=str, keep_default_na=False)
    marks = marks.merge(
        codes[["code_set", "code", "category"]], on=["code_set", "code"], how="left"
    )
    for category, column in zip(CATEGORIES, _COUNT_COLUMNS, strict=True):
        marks[column] = (marks["category"] == category).astype("int32")
    counted = marks.groupby(["urn", "upn", "start_year"], as_index=False)[_COUNT_COLUMNS].sum()
    counted["possible_sessions"] = counted[_COUNT_COLUMNS].sum(axis=1).astype("int32")
    counted = counted[counted["possible_sessions"] > 0].copy()
    absence = counted["authorised_absence_sessions"] + counted["unauthorised_absence_sessions"]
    counted["is_persistent_absence"] = absence * 10 >= counted["possible_sessions"]
    counted["is_severe_absence"] = absence * 2 >= counted["possible_sessions"]
    counted["academic_year"] = (
        counted["start_year"].astype(str) + "/" + (counted["start_year"] + 1).astype(str).str[2:]
    )
    pupils = pd.read_parquet(
        source / "pupil_events.parquet",
        columns=["urn", "upn", "sen_provision", "sen_primary_need", *order],
    )
    pupils = pupils.sort_values(order, ascending=False).drop_duplicates(["urn", "upn"])
    enrolments = counted.merge(
        pupils[["urn", "upn", "sen_provision", "sen_primary_need"]], on=["urn", "upn"], how="left"
    )[PUPIL_COLUMNS]
    enrolments.to_parquet(out / "pupil_attendance.parquet", index=False)

    schools = pd.read_parquet(source / "school_events.parquet")
    schools = schools.sort_values(order, ascending=False).drop_duplicates(["urn"])
    schools = schools[schools["la_code"].notna()][["urn", "la_code"]]
    at_school = enrolments.assign(level="school", area=enrolments["urn"])
    in_la = enrolments.merge(schools, on="urn").rename(columns={"la_code": "area"})
    located = pd.concat([at_school, in_la.assign(level="la")], ignore_index=True)
    located["absence_sessions"] = (
        located["authorised_absence_sessions"] + located["unauthorised_absence_sessions"]
    )
    grouped = located.groupby(
        ["level", "area", "academic_year", "sen_provision"], as_index=False, dropna=False
    ).agg(
        schools=("urn", "nunique"),
        enrolments=("urn", "size"),
        possible_sessions=("possible_sessions", "sum"),
        absence_sessions=("absence_sessions", "sum"),
        persistent=("is_persistent_absence", "sum"),
        severe=("is_severe_absence", "sum"),
    )

    def small(column: str) -> pd.Series:
        return grouped[column].between(1, SMALL - 1)

    group = small("enrolments")
    persistent = group | small("persistent")
    severe = group | small("severe")
    by_sen = grouped.assign(
        enrolments=grouped["enrolments"].astype("Int32").mask(group),
        possible_sessions=grouped["possible_sessions"].astype("Int32").mask(group),
        absence_sessions=grouped["absence_sessions"].astype("Int32").mask(group),
        persistent_absence_enrolments=grouped["persistent"].astype("Int32").mask(persistent),
        severe_absence_enrolments=grouped["severe"].astype("Int32").mask(severe),
        suppressed=group | persistent | severe,
        schools=grouped["schools"].astype("int32"),
    )[SEN_COLUMNS]
    by_sen.to_parquet(out / "attendance_by_sen.parquet", index=False)


PEERS = {
    "duckdb": run_duckdb,
    "polars": run_polars,
    "pandas": run_pandas,
    "postgres": run_postgres,
}


def main(argv: list[str]) -> int:
    peer, source, out, detail = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    extra = PEERS[peer](source, out) or {}
    seconds = round(time.perf_counter() - started, 2)
    detail.write_text(json.dumps({"compute_seconds": seconds, **extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
