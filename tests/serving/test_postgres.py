"""The PostgreSQL tiers on the real server: what each role reads, pseudonyms, suppression
that subtraction cannot undo, and the DfE-style feed (restricted, true counts), against the
restricted figures."""

import hashlib
import hmac
import subprocess
import threading
from collections import defaultdict
from pathlib import Path

import duckdb
import psycopg
import pytest
import sqlalchemy
from psycopg.rows import dict_row

from publication.publish import PUBLISHED_DB, current_parquet_folder, publish
from serving.postgres import PUBLIC, RESTRICTED, refresh
from serving.public_tier import DAILY_TO_DFE
from serving.suppression import recoverable_cells
from tests.support.postgres import KEY, as_role, login, readers

SMALL = range(1, 5)


@pytest.fixture(scope="module")
def served(published: Path, database: str) -> str:
    refresh(published / PUBLISHED_DB, database, KEY)
    return database


def analyst(served: str) -> str:
    """A personal login of the LA hub, a member of the LA's `<database>_hub_analyst`."""
    return as_role(served, login(served, "analyst", readers(served).hub_analyst))


def bi_user(served: str) -> str:
    """A BI tool's login, a member of the LA's `<database>_bi_reader`."""
    return as_role(served, login(served, "bi_tool", readers(served).bi_reader))


def fetch(dsn: str, query: str) -> list[dict]:
    with psycopg.connect(dsn, row_factory=dict_row) as con:
        return con.execute(query).fetchall()


def test_the_hub_analyst_reads_both_tiers_and_the_bi_reader_only_the_public_one(
    served: str,
) -> None:
    hub, bi = analyst(served), bi_user(served)
    for table in (
        "pupil_attendance",
        "absence_episodes",
        "pupils_for_support",
        "dfe_daily_attendance",
        "children_missing_education",
    ):
        assert fetch(hub, f"select count(*) as n from {RESTRICTED}.{table}")[0]["n"] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            fetch(bi, f"select count(*) from {RESTRICTED}.{table}")
    for table in ("attendance_by_sen", "school_daily_attendance"):
        for dsn in (hub, bi):
            assert fetch(dsn, f"select count(*) as n from {PUBLIC}.{table}")[0]["n"] > 0
    # Neither reader can change what is served.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        fetch(hub, f"delete from {PUBLIC}.attendance_by_sen")


def test_restricted_rows_carry_the_upn_and_its_keyed_pseudonym_public_rows_neither(
    served: str, published: Path
) -> None:
    hub = analyst(served)
    rows = fetch(hub, f"select upn, pupil_ref from {RESTRICTED}.pupil_attendance")
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        upns = {r[0] for r in con.execute("select upn from pupil_attendance").fetchall()}
    assert {r["upn"] for r in rows} == upns
    for row in rows:
        want = hmac.new(KEY, row["upn"].encode(), hashlib.sha256).hexdigest()[:32]
        assert row["pupil_ref"] == want
    public_columns = fetch(
        hub,
        "select table_name, column_name from information_schema.columns "
        f"where table_schema = '{PUBLIC}'",
    )
    assert not {c["column_name"] for c in public_columns} & {"upn", "pupil_ref"}
    # The CME officer's list is restricted whole: not even a count of it is public.
    assert "children_missing_education" not in {c["table_name"] for c in public_columns}
    for table in {c["table_name"] for c in public_columns}:
        text = str(fetch(hub, f"select * from {PUBLIC}.{table}"))
        assert not any(upn in text for upn in upns), table


def test_a_second_publication_swaps_in_whole_with_the_same_pseudonyms(
    served: str, published: Path
) -> None:
    hub = analyst(served)
    before = fetch(hub, f"select upn, pupil_ref from {RESTRICTED}.pupil_attendance")
    result = refresh(published / PUBLISHED_DB, served, KEY)
    after = fetch(hub, f"select upn, pupil_ref from {RESTRICTED}.pupil_attendance")
    assert sorted(map(tuple, (r.values() for r in after))) == sorted(
        map(tuple, (r.values() for r in before))
    )
    schemas = {r["nspname"] for r in fetch(served, "select nspname from pg_namespace")}
    assert {RESTRICTED, PUBLIC} <= schemas
    assert not {s for s in schemas if s.endswith(("__next", "__old"))}
    for schema in (RESTRICTED, PUBLIC):
        assert fetch(hub, f"select version from {schema}.publication") == [
            {"version": result.version}
        ]


def _true_sen_counts(hub: str) -> dict[tuple, dict[str, int]]:
    """Counts of attendance_by_sen computed from the restricted pupil rows."""
    rows = fetch(
        hub,
        f"select urn, academic_year, sen_provision, is_persistent_absence, is_severe_absence "
        f"from {RESTRICTED}.pupil_attendance",
    )
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for level, area in (("school", row["urn"]), ("la", "881")):
            cell = counts[(level, area, row["academic_year"], row["sen_provision"])]
            cell["enrolments"] += 1
            cell["persistent_absence_enrolments"] += row["is_persistent_absence"]
            cell["severe_absence_enrolments"] += row["is_severe_absence"]
    return counts


def test_sen_figures_are_true_or_withheld_and_no_withheld_one_is_recoverable(
    served: str,
) -> None:
    hub, bi = analyst(served), bi_user(served)
    truth = _true_sen_counts(hub)
    public = fetch(bi, f"select * from {PUBLIC}.attendance_by_sen")
    assert {(r["level"], r["area"], r["academic_year"], r["sen_provision"]) for r in public} == set(
        truth
    )
    secondary = 0
    for row in public:
        true = truth[(row["level"], row["area"], row["academic_year"], row["sen_provision"])]
        for column, value in true.items():
            if value in SMALL:
                assert row[column] is None, (row, column)
            elif row[column] is None:
                secondary += 1
                assert row["suppressed"]
            else:
                assert row[column] == value
    # The attacker's attempt: subtract the visible school rows from the LA row of the same
    # provision, and the visible provisions from a school's roll (known from its census).
    values, equations = {}, []
    for measure in ("enrolments", "persistent_absence_enrolments", "severe_absence_enrolments"):
        groups: dict[tuple, list] = defaultdict(list)
        for i, row in enumerate(public):
            values[(i, measure)] = row[measure]
            groups[(row["academic_year"], row["sen_provision"])].append((i, measure))
            groups[(row["level"], row["area"], row["academic_year"])].append((i, measure))
        equations += groups.values()
    assert recoverable_cells(values, equations) == []
    assert secondary > 0, "no complementary suppression occurred: the data tests nothing"


def test_the_dfe_feed_is_restricted_with_true_counts_and_daily_figures_are_withheld_soundly(
    served: str,
) -> None:
    hub, bi = analyst(served), bi_user(served)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        fetch(bi, f"select count(*) from {RESTRICTED}.dfe_daily_attendance")
    reasons = fetch(hub, f"select * from {RESTRICTED}.school_daily_reasons")
    truth: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in reasons:
        day = truth[(r["urn"], r["session_date"])]
        day[r["dfe_column"]] += r["sessions"]
        day[r["category"]] += r["sessions"]
        day["possible_sessions"] += r["sessions"]
    feed = fetch(hub, f"select * from {RESTRICTED}.dfe_daily_attendance")
    categories = {
        "present_sessions": "present",
        "approved_educational_activity": "aea",
        "authorised_absence": "authorised",
        "unauthorised_absence": "unauthorised",
    }
    for row in feed:
        true = truth[(row["urn"], row["attendance_date"])]
        assert row["possible_sessions"] == true["possible_sessions"]
        assert row["reason_i_authorised_illness"] == true["reason_i_authorised_illness"]
        for column, category in categories.items():
            assert row[column] == true[category]
    daily = fetch(bi, f"select * from {PUBLIC}.school_daily_attendance")
    by_day = {(r["urn"], r["attendance_date"]): r for r in feed}
    values, equations = {}, []
    by_date: dict = defaultdict(list)
    for i, row in enumerate(daily):
        true = by_day[(row["urn"], row["session_date"])]
        for column, feed_column in DAILY_TO_DFE.items():
            if true[feed_column] in SMALL:
                assert row[column] is None, (row, column)
            elif row[column] is not None:
                assert row[column] == true[feed_column], (row, column)
            values[(i, column)] = row[column]
        assert (row["pupils_expected"] is None) == (row["possible_sessions"] is None)
        by_date[row["session_date"]].append(i)
        equations.append([(i, c) for c in DAILY_TO_DFE])
    for indexes in by_date.values():
        equations += [[(i, c) for i in indexes] for c in DAILY_TO_DFE]
    assert recoverable_cells(values, equations) == []
    assert any(v is None for v in values.values())


def test_real_clients_read_the_published_marts(served: str, published: Path) -> None:
    bi = bi_user(served)
    psql = subprocess.run(
        ["psql", bi, "-At", "-c", f"select count(*) from {PUBLIC}.school_daily_attendance"],
        capture_output=True,
        text=True,
        check=True,
    )
    engine = sqlalchemy.create_engine(bi.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as con:
        by_sen = con.execute(
            sqlalchemy.text(f"select count(*) from {PUBLIC}.attendance_by_sen")
        ).scalar_one()
    engine.dispose()
    parquet = current_parquet_folder(published)
    with duckdb.connect() as con:
        daily = con.execute(
            f"select count(*) from '{parquet / 'school_daily_attendance.parquet'}'"
        ).fetchone()[0]
        sen = con.execute(
            f"select count(*) from '{parquet / 'attendance_by_sen.parquet'}'"
        ).fetchone()[0]
    assert int(psql.stdout.strip()) == daily > 0
    assert by_sen == sen > 0


def test_a_bi_query_during_a_refresh_sees_one_whole_publication(
    served: str, published: Path
) -> None:
    """A reader queries without pause while two new publications are swapped in: every
    answer is one publication's, whole (its version, all its rows), and none fails."""
    bi = bi_user(served)
    query = (
        f"select p.version, (select count(*) from {PUBLIC}.attendance_by_sen) as sen, "
        f"(select count(*) from {PUBLIC}.school_daily_attendance) as daily "
        f"from {PUBLIC}.publication p"
    )
    expected = fetch(bi, query)[0]
    seen: list[dict] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        with psycopg.connect(bi, autocommit=True, row_factory=dict_row) as con:
            while not stop.is_set():
                try:
                    seen.append(con.execute(query).fetchone())
                except psycopg.Error as error:
                    errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    versions = {expected["version"]}
    try:
        for _ in range(2):
            again = publish(published.parent / "warehouse.duckdb", published)
            versions.add(refresh(again.database, served, KEY).version)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert len(versions) == 3
    assert {row["version"] for row in seen} == versions, "the reader saw every publication"
    assert {(row["sen"], row["daily"]) for row in seen} == {(expected["sen"], expected["daily"])}


def test_a_refresh_waits_for_a_long_bi_transaction_without_breaking_it(
    served: str, published: Path
) -> None:
    """A reader holds one served table past PostgreSQL's deadlock check, then reads another:
    the swap, which may hold that one by then, gives way and retries, so the reader's
    transaction finishes unharmed and the refresh lands after it."""
    bi = bi_user(served)
    before = fetch(bi, f"select version from {PUBLIC}.publication")[0]["version"]
    outcome: dict[str, object] = {}
    holding = threading.Event()

    def long_reader() -> None:
        try:
            with psycopg.connect(bi) as con, con.transaction():
                con.execute(f"select count(*) from {PUBLIC}.attendance_by_sen").fetchone()
                holding.set()
                con.execute("select pg_sleep(1.5)")
                outcome["version"] = con.execute(
                    f"select version from {PUBLIC}.publication"
                ).fetchone()[0]
                for table in (
                    "school_daily_attendance",
                    "attendance_by_sen_need",
                ):
                    con.execute(f"select count(*) from {PUBLIC}.{table}").fetchone()
        except psycopg.Error as error:
            outcome["error"] = error

    reader = threading.Thread(target=long_reader)
    reader.start()
    assert holding.wait(10)
    again = publish(published.parent / "warehouse.duckdb", published)
    after = refresh(again.database, served, KEY).version
    reader.join()
    assert "error" not in outcome
    assert outcome["version"] == before  # the reader's transaction saw the old publication
    assert after != before
    assert fetch(bi, f"select version from {PUBLIC}.publication")[0]["version"] == after


def test_cohorts_are_whole_for_the_hub_and_la_rows_only_withheld_soundly_for_bi(
    served: str, published: Path
) -> None:
    """attendance_by_characteristic: the restricted tier is the published mart whole (small
    groups shown); the public tier has the LA rows, no count of 1 to 4, the rest true."""
    hub, bi = analyst(served), bi_user(served)
    whole = fetch(hub, f"select * from {RESTRICTED}.attendance_by_characteristic")
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        names = [d[0] for d in con.execute("describe attendance_by_characteristic").fetchall()]
        mart = con.execute("select * from attendance_by_characteristic").fetchall()
    key = ("level", "area", "academic_year", "characteristic", "group_value")
    published = {tuple(r[names.index(k)] for k in key): r for r in mart}
    assert {tuple(r[k] for k in key) for r in whole} == set(published)
    assert any(r["enrolments"] in SMALL for r in whole)
    for row in whole:
        assert not row["suppressed"]
        assert row["enrolments"] == published[tuple(row[k] for k in key)][names.index("enrolments")]
    public = fetch(bi, f"select * from {PUBLIC}.attendance_by_characteristic")
    la_rows = {tuple(r[k] for k in key): r for r in whole if r["level"] == "la"}
    assert {tuple(r[k] for k in key) for r in public} == set(la_rows)
    for row in public:
        true = la_rows[tuple(row[k] for k in key)]
        for column in ("enrolments", "persistent_absence_enrolments", "severe_absence_enrolments"):
            if true[column] in SMALL:
                assert row[column] is None and row["suppressed"], (row, column)
            elif row[column] is not None:
                assert row[column] == true[column]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        fetch(bi, f"select count(*) from {RESTRICTED}.attendance_by_characteristic")
