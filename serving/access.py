"""Who may read one LA's serving database, when several LAs share one PostgreSQL server.

Roles belong to the whole server (the cluster), the marts to one LA's database. A role
named the same in every database (`hub_analyst`) would read every LA's pupils, so each
LA's readers are two group roles of its own, `<prefix>_hub_analyst` and
`<prefix>_bi_reader`, where the prefix is the serving database's name unless the LA sets
ATTENDANCE_SERVING_ROLE_PREFIX. They cannot log in: a DBA creates personal logins that are
members of them (docs/bi.md). The database itself is closed to everyone else: CONNECT is
revoked from PUBLIC, and PUBLIC may neither use nor create in the `public` schema.
"""

import logging
import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

ROLE_PREFIX_ENV = "ATTENDANCE_SERVING_ROLE_PREFIX"
# PostgreSQL cuts longer names silently (NAMEDATALEN 64): two LAs' roles could then collide.
MAX_NAME = 63
# Lower case, so a DBA writes the role names unquoted in SQL.
PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]*")
# The names of the readers before they were one LA's (cluster-wide, shared by every LA).
LEGACY_ROLES = ("hub_analyst", "bi_reader")


class AccessError(RuntimeError):
    """The serving database cannot be made readable by its own LA's roles only."""


@dataclass(frozen=True)
class Readers:
    """One LA's two reader roles."""

    hub_analyst: str  # both tiers: pupil-level rows for the LA hub
    bi_reader: str  # the public tier only: for anything shared widely

    @classmethod
    def named(cls, prefix: str) -> "Readers":
        """The roles of `prefix`, refused if PostgreSQL would need quotes or would cut them."""
        readers = cls(f"{prefix}_hub_analyst", f"{prefix}_bi_reader")
        longest = max(readers.all(), key=len)
        if not PLAIN_NAME.fullmatch(prefix) or len(longest) > MAX_NAME:
            raise AccessError(
                f"reader role prefix {prefix!r} unusable: it must be lower-case letters, digits "
                f"and _, starting with a letter, and {longest!r} at most {MAX_NAME} characters; "
                f"set {ROLE_PREFIX_ENV} to a short name of this LA's (docs/bi.md)"
            )
        return readers

    def all(self) -> tuple[str, str]:
        return (self.hub_analyst, self.bi_reader)


def readers_of(con: psycopg.Connection, prefix: str | None) -> Readers:
    """The readers of the database `con` is connected to: `prefix`, or its name."""
    return Readers.named(prefix or _database(con))


def ensure_roles(con: psycopg.Connection, readers: Readers) -> None:
    """Create the LA's two group roles if missing, and refuse roles that another database of
    the server already lets connect: they would read two LAs' data."""
    for role in readers.all():
        if con.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone():
            continue
        try:
            with con.transaction():
                con.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        except psycopg.errors.DuplicateObject:
            pass  # created meanwhile by a concurrent refresh of the same database
    shared = con.execute(
        "select r.rolname, d.datname from pg_database d, aclexplode(d.datacl) a, pg_roles r "
        "where a.grantee = r.oid and r.rolname = any(%s) and a.privilege_type = 'CONNECT' "
        "and d.datname <> current_database() order by 1, 2",
        [list(readers.all())],
    ).fetchall()
    if shared:
        role, database = shared[0]
        raise AccessError(
            f"role {role} may already connect to database {database}: an LA's reader roles "
            f"must be its own. Give this database its own prefix ({ROLE_PREFIX_ENV}, "
            "docs/bi.md)"
        )
    legacy = [
        r
        for (r,) in con.execute(
            "select rolname from pg_roles where rolname = any(%s) order by 1", [list(LEGACY_ROLES)]
        ).fetchall()
    ]
    if legacy:
        log.warning(
            "roles %s (shared by every database of the server) no longer read database %s; "
            "make their logins members of %s instead (docs/bi.md)",
            ", ".join(legacy),
            _database(con),
            ", ".join(readers.all()),
        )


def close_database(con: psycopg.Connection, readers: Readers) -> None:
    """Only `readers` (and the owner) may connect; nobody else may use or create in schema
    public. Checked afterwards: a REVOKE by someone without the right only warns."""
    database = sql.Identifier(_database(con))
    con.execute(sql.SQL("revoke connect on database {} from public").format(database))
    for role in readers.all():
        con.execute(
            sql.SQL("grant connect on database {} to {}").format(database, sql.Identifier(role))
        )
    con.execute("revoke all on schema public from public")
    opened = con.execute(
        "select has_database_privilege('public', current_database(), 'CONNECT'), "
        "has_schema_privilege('public', 'public', 'CREATE'), "
        "has_schema_privilege('public', 'public', 'USAGE')"
    ).fetchone()
    if opened is None or any(opened):
        raise AccessError(
            f"database {_database(con)} is still open to every role of the server "
            f"(PUBLIC connect, create, usage on schema public: {opened}); refresh as the "
            "database's owner, or have the owner run `revoke connect on database ... from "
            "public` and `revoke all on schema public from public`"
        )


def grant_tiers(con: psycopg.Connection, readers: Readers, restricted: str, public: str) -> None:
    """Read-only grants on the two tiers' schemas of this database (grants on schemas and
    tables are one database's, unlike roles)."""
    grants = {restricted: (readers.hub_analyst,), public: readers.all()}
    for schema, roles in grants.items():
        for role in roles:
            args = (sql.Identifier(schema), sql.Identifier(role))
            con.execute(sql.SQL("grant usage on schema {} to {}").format(*args))
            con.execute(sql.SQL("grant select on all tables in schema {} to {}").format(*args))


def _database(con: psycopg.Connection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])
