"""Two LAs' serving databases on one PostgreSQL server: each LA's logins read their own LA's
marts and nothing of the other's, whatever they try (connect, read, take the other's role),
and a refresh refuses reader roles that another LA's database already admits."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql

from publication.publish import PUBLISHED_DB
from serving.access import AccessError, Readers
from serving.postgres import PUBLIC, RESTRICTED, ServingResult, refresh
from synthetic import GeneratorConfig, build_la
from tests.support.postgres import KEY, SERVER, as_role, database_name, login, new_database
from tests.support.published import published_la


@dataclass(frozen=True)
class ServedLA:
    dsn: str  # the superuser's
    published_db: Path
    served: ServingResult
    analyst: str  # login role names, members of the LA's reader roles
    bi_tool: str

    @property
    def database(self) -> str:
        return database_name(self.dsn)


def _serve(published_db: Path, dsn: str) -> ServedLA:
    served = refresh(published_db, dsn, KEY)
    analyst = login(dsn, "analyst", served.readers.hub_analyst)
    bi_tool = login(dsn, "bi_tool", served.readers.bi_reader)
    return ServedLA(dsn, published_db, served, analyst, bi_tool)


@pytest.fixture(scope="module")
def la_a(published: Path) -> Iterator[ServedLA]:
    with new_database() as dsn:
        yield _serve(published / PUBLISHED_DB, dsn)


# A second, different LA: its own code, its own pupils. (The tiny LA's public tier is refused
# by the disclosure audit, which is not what this test is about.)
SECOND_LA = GeneratorConfig(
    schools=5, pupils=200, school_days=10, window_days=5, closure_day=4, la_code="882", seed=2026
)


@pytest.fixture(scope="module")
def la_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedLA]:
    """A second, different LA, published by the pipeline's own steps."""
    la = build_la(SECOND_LA)
    root = tmp_path_factory.mktemp("second_la")
    run = published_la(la, root, range(la.config.school_days))
    with new_database() as dsn:
        yield _serve(run.locations.published / PUBLISHED_DB, dsn)


def fetch(dsn: str, query: str) -> list[tuple]:
    with psycopg.connect(dsn) as con:
        return con.execute(query).fetchall()


def published_upns(published_db: Path) -> set[str]:
    with duckdb.connect(str(published_db), read_only=True) as con:
        return {r[0] for r in con.execute("select upn from pupil_attendance").fetchall()}


def served_tables(la: ServedLA) -> list[tuple[str, str]]:
    return [
        tuple(r)
        for r in fetch(
            la.dsn,
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ('{RESTRICTED}', '{PUBLIC}') order by 1, 2",
        )
    ]


def test_each_la_analyst_reads_the_pupils_of_its_own_la(la_a: ServedLA, la_b: ServedLA) -> None:
    upns = {}
    for la in (la_a, la_b):
        rows = fetch(as_role(la.dsn, la.analyst), f"select upn from {RESTRICTED}.pupil_attendance")
        upns[la.database] = {upn for (upn,) in rows}
        assert upns[la.database] == published_upns(la.published_db)
    assert upns[la_a.database] != upns[la_b.database], "the two LAs must differ to prove anything"


@pytest.mark.parametrize("who", ["analyst", "bi_tool"])
def test_no_login_of_one_la_can_connect_to_the_other_la_database(
    la_a: ServedLA, la_b: ServedLA, who: str
) -> None:
    for own, other in ((la_a, la_b), (la_b, la_a)):
        role = getattr(own, who)
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(as_role(other.dsn, role)).close()
        psycopg.connect(as_role(own.dsn, role)).close()  # its own is open to it


def test_connected_by_a_dba_s_mistake_a_login_still_reads_nothing_of_the_other_la(
    la_a: ServedLA, la_b: ServedLA
) -> None:
    """A superuser grants LA A's analyst CONNECT on LA B's database: every served table of
    B still refuses it, and it cannot take B's reader role."""
    grant = sql.SQL("{} connect on database {} {} {}")
    target, role = sql.Identifier(la_b.database), sql.Identifier(la_a.analyst)
    tables = served_tables(la_b)
    assert len(tables) >= 10, tables
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(grant.format(sql.SQL("grant"), target, sql.SQL("to"), role))
        try:
            with psycopg.connect(as_role(la_b.dsn, la_a.analyst), autocommit=True) as con:
                for schema, table in tables:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        con.execute(
                            sql.SQL("select * from {}").format(sql.Identifier(schema, table))
                        )
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    con.execute(
                        sql.SQL("set role {}").format(
                            sql.Identifier(la_b.served.readers.hub_analyst)
                        )
                    )
        finally:
            admin.execute(grant.format(sql.SQL("revoke"), target, sql.SQL("from"), role))


def test_the_bi_reader_reads_only_the_public_tier_of_its_own_la(
    la_a: ServedLA, la_b: ServedLA
) -> None:
    for la in (la_a, la_b):
        with psycopg.connect(as_role(la.dsn, la.bi_tool), autocommit=True) as con:
            for schema, table in served_tables(la):
                query = sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))
                if schema == RESTRICTED:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        con.execute(query)
                elif table != "publication":
                    assert con.execute(query).fetchone()[0] == la.served.rows[table] > 0, table


def test_neither_database_is_open_to_the_server_s_other_roles(
    la_a: ServedLA, la_b: ServedLA
) -> None:
    stranger = f"{la_a.database}_stranger"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login").format(sql.Identifier(stranger)))
    for la in (la_a, la_b):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(as_role(la.dsn, stranger)).close()
        public = fetch(
            la.dsn,
            "select has_database_privilege('public', current_database(), 'CONNECT'), "
            "has_schema_privilege('public', 'public', 'USAGE'), "
            "has_schema_privilege('public', 'public', 'CREATE')",
        )
        assert public == [(False, False, False)]
        # Its own readers cannot leave anything behind for the others to run or read.
        for role in (la.analyst, la.bi_tool):
            for schema in ("public", PUBLIC, RESTRICTED):
                with psycopg.connect(as_role(la.dsn, role)) as con:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        con.execute(
                            sql.SQL("create table {} (x int)").format(
                                sql.Identifier(schema, "left_behind")
                            )
                        )


def test_reader_roles_another_la_database_admits_are_refused(
    la_a: ServedLA, la_b: ServedLA
) -> None:
    """A third LA told to use LA A's roles: the refresh refuses, and changes nothing."""
    with new_database() as dsn:
        with pytest.raises(AccessError, match=f"may already connect to database {la_a.database}"):
            refresh(la_b.published_db, dsn, KEY, role_prefix=la_a.database)
        schemas = fetch(dsn, "select nspname from pg_namespace where nspname like 'attendance%'")
        assert schemas == []
        assert fetch(
            SERVER + "/postgres",
            f"select datacl from pg_database where datname = '{database_name(dsn)}'",
        ) == [(None,)]


@pytest.mark.parametrize("prefix", ["Attendance", "la-881", "881", "a" * 53])
def test_role_prefixes_postgres_would_quote_or_cut_are_refused(prefix: str) -> None:
    with pytest.raises(AccessError, match="ATTENDANCE_SERVING_ROLE_PREFIX"):
        Readers.named(prefix)
    assert Readers.named("la_881").all() == ("la_881_hub_analyst", "la_881_bi_reader")
