"""Fixtures of the serving tests, imported by each test module: a published LA
(ingested, built by real dbt, published) and a PostgreSQL database of its own on the server,
dropped afterwards (the reader roles are cluster-wide)."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ingestion.ingest import ingest_landing
from ingestion.publish import publish
from ingestion.synthetic import GeneratorConfig, SyntheticLA, build_la, write_extracts_for_day
from ingestion.transform import build_marts

SERVER = "postgresql://postgres@127.0.0.1:5432"
# Enough schools and SEN groups for small counts to be withheld, and for withheld cells to
# need complements; small enough to build in seconds.
CONFIG = GeneratorConfig(schools=5, pupils=200, school_days=10, window_days=5, closure_day=4)
KEY = b"test-key-not-a-secret-0123456789"


@pytest.fixture(scope="session")
def serving_la() -> SyntheticLA:
    return build_la(CONFIG)


@pytest.fixture(scope="session")
def published(serving_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serving")
    for day_index in range(CONFIG.school_days):
        write_extracts_for_day(serving_la, day_index, root / "landing")
    ingest_landing(root / "landing", root / "warehouse.duckdb", progress=lambda _: None)
    (root / "work").mkdir(exist_ok=True)
    build_marts(root / "warehouse.duckdb", root / "work", progress=lambda _: None)
    return publish(root / "warehouse.duckdb", root / "published").folder


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """The DSN of a new database with a unique name, dropped at the end."""
    name = f"attendance_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
        con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield f"{SERVER}/{name}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
        con.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def as_role(dsn: str, role: str) -> str:
    """The DSN of `dsn`'s database for the login `role` (trust auth on this server)."""
    return dsn.replace("postgres@", f"{role}@", 1)
