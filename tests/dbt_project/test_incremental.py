"""Daily incremental builds end with the same marts as a --full-refresh build.

The daily builds meet what real feeds do: a school's extract that arrives a day late, and a
pupil event that changes an SEN status backwards in valid time (a backdated EHC plan).
"""

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from pipeline.marts import build_marts
from synthetic import SyntheticLA, build_la
from tests.support.extracts import deliver
from tests.support.marts import CONFIG, MARTS, run_dbt, snapshot

FACTS = ("fct_sessions", "dim_school_days", "dim_schools", "fct_sen_status_history")


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def la() -> SyntheticLA:
    return build_la(CONFIG)


def _backdate_an_ehc_plan(database: Path, la: SyntheticLA) -> tuple[str, str]:
    """A pupil event, as if the school had sent an EHC plan effective from day 3 (after day
    10's extract, so that it is the pupil's latest status)."""
    late = la.extract_time(10) + timedelta(hours=1)
    with duckdb.connect(str(database)) as con:
        urn, upn = con.execute(
            "select urn, upn from events.pupil_events where sen_provision = 'N' "
            "order by urn, upn limit 1"
        ).fetchone()
        con.execute(
            """
            insert into events.pupil_events by name
            select 'backdated-1' as event_id, 'characteristics_changed' as event_type, urn, upn,
                ? as valid_from, date_of_birth, sex, ncy, admission_date, leaving_date,
                'E' as sen_provision, 'ASD' as sen_primary_need, fsm_eligible, looked_after,
                child_in_need, child_protection_plan, ? as transaction_time,
                ? as extracted_at, now() as ingested_at, load_id, source_file, source_line
            from events.pupil_events where urn = ? and upn = ?
            order by transaction_time desc limit 1
            """,
            [la.days[3], late, late, urn, upn],
        )
    return urn, upn


@pytest.fixture(scope="module")
def built(la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    landing, database = root / "landing", root / "warehouse.duckdb"
    late_school = la.schools[1].urn

    def ingest_and_build() -> None:
        ingest_landing(landing, database, progress=_quiet)
        build_marts(database, root, progress=_quiet)

    deliver(la, landing, range(0, 8))
    ingest_and_build()  # the first build: full
    deliver(la, landing, range(8, 9))
    deliver(la, landing, range(9, 10), skip_urns=(late_school,))
    ingest_and_build()  # incremental, one school's day-9 extract missing
    deliver(la, landing, range(9, 10))  # it arrives late (the others are already ingested)
    backdated = _backdate_an_ehc_plan(database, la)
    ingest_and_build()  # incremental: the late extract and the backdated plan
    deliver(la, landing, range(10, 11))
    ingest_and_build()  # incremental: an ordinary day

    refreshed = root / "refreshed.duckdb"
    shutil.copy(database, refreshed)
    run_dbt(refreshed, root / "refresh", "build", "--full-refresh")
    return {"incremental": database, "refreshed": refreshed, "backdated": backdated}


def test_incremental_builds_equal_a_full_refresh(built: dict) -> None:
    incremental = snapshot(built["incremental"], MARTS + FACTS)
    refreshed = snapshot(built["refreshed"], MARTS + FACTS)
    for relation in MARTS + FACTS:
        assert incremental[relation] == refreshed[relation], relation


def test_the_daily_builds_recomputed_only_part_of_the_facts(built: dict) -> None:
    with duckdb.connect(str(built["incremental"]), read_only=True) as con:
        by_build = con.execute(
            "select loaded_through, count(*) from fct_sessions group by all order by 1"
        ).fetchall()
    assert len(by_build) == 4, by_build
    total = sum(count for _, count in by_build)
    assert by_build[-1][1] < total / 4, "the last daily build rewrote most of the table"


def test_the_backdated_plan_reached_the_sessions_since_its_valid_date(
    built: dict, la: SyntheticLA
) -> None:
    urn, upn = built["backdated"]
    with duckdb.connect(str(built["incremental"]), read_only=True) as con:
        statuses = con.execute(
            "select session_date >= ? as since, list(distinct sen_provision) "
            "from fct_sessions where urn = ? and upn = ? group by all order by 1",
            [la.days[3], urn, upn],
        ).fetchall()
    assert statuses == [(False, ["N"]), (True, ["E"])]
