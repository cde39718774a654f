"""The tests' PostgreSQL server: a database of each test session's own, and its logins."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from serving.access import Readers

SERVER = "postgresql://postgres@127.0.0.1:5432"
# A pseudonym key for tests only.
KEY = b"test-key-not-a-secret-0123456789"


@contextmanager
def new_database() -> Iterator[str]:
    """The DSN of a new database with a unique name, dropped at the end with every role
    whose name starts with it (its reader roles, and the logins `login` made for it)."""
    name = f"attendance_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
        con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
            con.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
            roles = con.execute(
                "select rolname from pg_roles where starts_with(rolname, %s)", [f"{name}_"]
            ).fetchall()
            for (role,) in roles:
                con.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def database_name(dsn: str) -> str:
    return dsn.rsplit("/", 1)[1]


def readers(dsn: str) -> Readers:
    """The reader roles a refresh of `dsn` makes by default (named after the database)."""
    return Readers.named(database_name(dsn))


def login(dsn: str, name: str, member_of: str) -> str:
    """The login `<database>_<name>` of `dsn`'s database, made (if missing) as a DBA would,
    a member of the group role `member_of`; trust auth, so no password."""
    role = f"{database_name(dsn)}_{name}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as con:
        if not con.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone():
            con.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        con.execute(
            sql.SQL("grant {} to {}").format(sql.Identifier(member_of), sql.Identifier(role))
        )
    return role


def as_role(dsn: str, role: str) -> str:
    """The DSN of `dsn`'s database for the login `role` (trust auth on this server)."""
    return dsn.replace("postgres@", f"{role}@", 1)
