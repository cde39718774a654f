"""The tests' PostgreSQL server: a database of each test session's own, and its logins."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

SERVER = "postgresql://postgres@127.0.0.1:5432"
# A pseudonym key for tests only.
KEY = b"test-key-not-a-secret-0123456789"


@contextmanager
def new_database() -> Iterator[str]:
    """The DSN of a new database with a unique name, dropped at the end."""
    name = f"attendance_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
        con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
            con.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def as_role(dsn: str, role: str) -> str:
    """The DSN of `dsn`'s database for the login `role` (trust auth on this server)."""
    return dsn.replace("postgres@", f"{role}@", 1)
