"""PostgreSQL serving: the published marts where BI tools read them, in two access tiers.

- `attendance_restricted` (role `<prefix>_hub_analyst`): the pupil-level marts with the UPN
  and its keyed pseudonym `pupil_ref` (serving/pseudonyms.py), the unsuppressed
  school_daily_reasons, attendance_by_characteristic and dfe_daily_attendance (the DfE-style
  feed, true counts), and the schools reference (`schools`).
- `attendance_public` (roles `<prefix>_hub_analyst` and `<prefix>_bi_reader`): the
  aggregate marts with secondary suppression that the LP audit passed
  (serving/public_tier.py).

Reads only the published DuckDB file, never the working warehouse. Each refresh loads into
new schemas (`<schema>__next`), then in one transaction renames the old schemas away, the
new ones into place and drops the old: a BI query sees the whole previous publication or
the whole new one. The reader roles are the LA's own and the database is closed to every other
role of the server (serving/access.py).
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from serving.access import Readers, close_database, ensure_roles, grant_tiers, readers_of
from serving.pseudonyms import pupil_ref
from serving.public_tier import PUBLIC_MARTS, public_tier, read_rows

log = logging.getLogger(__name__)

RESTRICTED = "attendance_restricted"
PUBLIC = "attendance_public"
DSN_ENV = "ATTENDANCE_SERVING_DB_URL"
RESTRICTED_MARTS = {
    "pupil_attendance": "urn, upn, academic_year",
    "absence_episodes": "urn, upn, start_date, start_session",
    "pupils_for_support": "urn, upn, academic_year",
    "school_daily_reasons": "urn, session_date, register_code, category",
    # Whole here (a school's own figures, the hub); suppressed in the public tier.
    "attendance_by_characteristic": "level, area, academic_year, characteristic, group_value",
    "schools": "urn",
    "dfe_daily_attendance": "urn, attendance_date",
    "school_feed_status": "urn",
    "weekly_attendance": "level, area, academic_year, week_start",
    "children_missing_education": "urn, upn",
    "ingest_audit": "path, sha256",
    "quarantine": "path, sha256, line",
}
PG_TYPES = {
    "VARCHAR": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[tuple[str, str]]  # (name, PostgreSQL type)
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class ServingResult:
    version: str
    rows: dict[str, int]
    secondary_withheld: dict[str, int]
    readers: Readers


@dataclass(frozen=True)
class ServingTables:
    """One publication as the two tiers serve it."""

    version: str
    restricted: list[Table]
    public: list[Table]
    # Cells withheld by secondary suppression, per table.
    secondary_withheld: dict[str, int]


def serving_tables(published_db: Path, key: bytes) -> ServingTables:
    """The restricted and public tables of the publication in `published_db`."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        types = {
            table: {c: _pg_type(t) for c, t, *_ in con.execute(f"describe main.{table}").fetchall()}
            for table in (*RESTRICTED_MARTS, *PUBLIC_MARTS)
        }
        restricted = []
        for table, order in RESTRICTED_MARTS.items():
            rows = read_rows(con, table, order)
            columns = list(types[table].items())
            if "upn" in types[table]:
                at = [c for c, _ in columns].index("upn") + 1
                columns.insert(at, ("pupil_ref", "text"))
                rows = [_with_pupil_ref(row, key) for row in rows]
            restricted.append(Table(table, columns, rows))
        # Suppressed and audited before anything is written: a refused public tier
        # (DisclosureRefused) leaves the served schemas as they were.
        audited = public_tier(con)
        version = str(con.execute("select version from main.publication").fetchone()[0])
    public = [Table(t, list(types[t].items()), rows) for t, rows in audited.tables.items()]
    return ServingTables(version, restricted, public, audited.withheld)


def refresh(
    published_db: Path, dsn: str, key: bytes, role_prefix: str | None = None
) -> ServingResult:
    """Load the publication into PostgreSQL at `dsn` and swap it in (one transaction),
    readable only by the roles of `role_prefix` (default: the database's name)."""
    tables = serving_tables(published_db, key)
    with psycopg.connect(dsn) as con:
        readers = readers_of(con, role_prefix)
        ensure_roles(con, readers)
        close_database(con, readers)
        for schema, loaded in ((RESTRICTED, tables.restricted), (PUBLIC, tables.public)):
            _load_schema(con, f"{schema}__next", loaded, tables.version)
        con.commit()
        _swap_in(con, readers)
    rows = {t.name: len(t.rows) for t in (*tables.restricted, *tables.public)}
    log.info(
        "PostgreSQL serving refreshed with publication %s for roles %s: %s",
        tables.version,
        ", ".join(readers.all()),
        rows,
    )
    return ServingResult(tables.version, rows, tables.secondary_withheld, readers)


def _load_schema(
    con: psycopg.Connection, schema: str, tables: Iterable[Table], version: str
) -> None:
    con.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    con.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
    for table in tables:
        target = sql.Identifier(schema, table.name)
        con.execute(
            sql.SQL("create table {} ({})").format(
                target,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in table.columns
                ),
            )
        )
        names = [c for c, _ in table.columns]
        with con.cursor().copy(
            sql.SQL("copy {} ({}) from stdin").format(
                target, sql.SQL(", ").join(map(sql.Identifier, names))
            )
        ) as copy:
            for row in table.rows:
                copy.write_row([row[c] for c in names])
    con.execute(
        sql.SQL("create table {} as select %s::text as version, now() as loaded_at").format(
            sql.Identifier(schema, "publication")
        ),
        [version],
    )


# A BI query locks the tables it reads one after another, and the swap's drops lock the old
# tables in their own order: each may hold a lock the other waits for. The swap gives up
# waiting (lock_timeout) well before PostgreSQL's deadlock check (deadlock_timeout, 1 s by
# default) would cancel one of the two, which could be the reader's query, and tries again.
SWAP_LOCK_TIMEOUT = "200ms"
SWAP_ATTEMPTS = 50


def _swap_in(con: psycopg.Connection, readers: Readers) -> None:
    """Both tiers' new schemas into place in one transaction, retried while readers hold
    locks on the old tables."""
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with con.transaction():
                con.execute(sql.SQL("set local lock_timeout = {}").format(SWAP_LOCK_TIMEOUT))
                for schema in (RESTRICTED, PUBLIC):
                    _swap(con, schema)
                grant_tiers(con, readers, RESTRICTED, PUBLIC)
            return
        except psycopg.errors.LockNotAvailable:
            if attempt == SWAP_ATTEMPTS:
                raise
            log.info("readers hold the served tables; swap attempt %d waits and retries", attempt)
            time.sleep(0.05 * attempt)


def _swap(con: psycopg.Connection, schema: str) -> None:
    old, new = sql.Identifier(f"{schema}__old"), sql.Identifier(f"{schema}__next")
    con.execute(sql.SQL("drop schema if exists {} cascade").format(old))
    con.execute(
        sql.SQL("alter schema {} rename to {}").format(sql.Identifier(schema), old)
        if con.execute("select 1 from pg_namespace where nspname = %s", [schema]).fetchone()
        else sql.SQL("select 1")
    )
    con.execute(sql.SQL("alter schema {} rename to {}").format(new, sql.Identifier(schema)))
    con.execute(sql.SQL("drop schema if exists {} cascade").format(old))


def _pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return "numeric"
    return PG_TYPES.get(duckdb_type, "text")


def _with_pupil_ref(row: dict[str, Any], key: bytes) -> dict[str, Any]:
    return {**row, "pupil_ref": pupil_ref(row["upn"], key)}
