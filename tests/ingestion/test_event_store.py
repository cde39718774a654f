"""The event store: append-only, idempotent, independent of the order extracts arrive in."""

import hashlib
import random
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from synthetic import SyntheticLA
from tests.support.extracts import deliver

EVENT_TABLES = ("events.mark_events", "events.pupil_events", "events.school_events")

# The current register, projected from the events: per stream, the state with the latest
# transaction time (ties: the later extract).
CURRENT_MARKS = """
    select urn, upn, session_date, session, code
    from events.mark_events
    qualify row_number() over (
        partition by urn, upn, session_date, session
        order by transaction_time desc, extracted_at desc) = 1
    order by all
"""
CURRENT_PUPILS = """
    select urn, upn, date_of_birth, sex, ncy, admission_date, leaving_date, sen_provision,
        sen_primary_need, fsm_eligible, looked_after, child_in_need, child_protection_plan
    from events.pupil_events
    qualify row_number() over (
        partition by urn, upn order by transaction_time desc, extracted_at desc) = 1
    order by all
"""


def _current_state_hash(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(CURRENT_MARKS).fetchall() + con.execute(CURRENT_PUPILS).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _extract_folders(la: SyntheticLA, source: Path, days: range) -> list[Path]:
    deliver(la, source, days)
    return sorted({p.parent for p in source.rglob("*.*")})


def _arrive(folder: Path, source: Path, landing: Path) -> None:
    shutil.copytree(folder, landing / folder.relative_to(source))


def test_rows_already_in_the_log_never_change(tiny_la: SyntheticLA, tmp_path: Path) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    deliver(tiny_la, landing, range(3))
    ingest_landing(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        before = {t: set(con.execute(f"select * from {t}").fetchall()) for t in EVENT_TABLES}
    deliver(tiny_la, landing, range(3, 6))
    ingest_landing(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        after = {t: set(con.execute(f"select * from {t}").fetchall()) for t in EVENT_TABLES}
    for table in EVENT_TABLES:
        assert before[table] <= after[table], table
    assert len(after["events.mark_events"]) > len(before["events.mark_events"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_arrival_order_gives_the_same_current_register(
    tiny_la: SyntheticLA, tmp_path: Path, seed: int
) -> None:
    source = tmp_path / "source"
    folders = _extract_folders(tiny_la, source, range(6))

    in_order = tmp_path / "in_order"
    for folder in folders:
        _arrive(folder, source, in_order / "landing")
        ingest_landing(in_order / "landing", in_order / "wh.duckdb")

    shuffled = tmp_path / "shuffled"
    order = list(folders)
    random.Random(seed).shuffle(order)
    for folder in order + order[:3]:  # and some extracts delivered twice
        if not (shuffled / "landing" / folder.relative_to(source)).exists():
            _arrive(folder, source, shuffled / "landing")
        ingest_landing(shuffled / "landing", shuffled / "wh.duckdb")

    assert _current_state_hash(in_order / "wh.duckdb") == _current_state_hash(
        shuffled / "wh.duckdb"
    )


def test_an_old_extract_arriving_late_changes_nothing_current(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    folders = _extract_folders(tiny_la, source, range(6))
    first_day = [f for f in folders if f.name.startswith(tiny_la.days[0].isoformat())]
    later = [f for f in folders if f not in first_day]
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    for folder in later:
        _arrive(folder, source, landing)
    ingest_landing(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        current_before = set(con.execute(CURRENT_MARKS).fetchall())
    for folder in first_day:
        _arrive(folder, source, landing)
    ingest_landing(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        current_after = set(con.execute(CURRENT_MARKS).fetchall())
    # Every mark current before is still current; the old extract only adds sessions that
    # no later extract covered (window 3: day 0 is not in day 3's window).
    assert current_before <= current_after
    added_days = {row[2] for row in current_after - current_before}
    assert added_days <= {tiny_la.days[0]}


def test_event_ids_are_deterministic(tiny_la: SyntheticLA, tmp_path: Path) -> None:
    ids = []
    for run in ("a", "b"):
        landing, db = tmp_path / run / "landing", tmp_path / run / "wh.duckdb"
        deliver(tiny_la, landing, range(3))
        ingest_landing(landing, db)
        with duckdb.connect(str(db), read_only=True) as con:
            ids.append(
                {
                    t: sorted(r[0] for r in con.execute(f"select event_id from {t}").fetchall())
                    for t in EVENT_TABLES
                }
            )
    assert ids[0] == ids[1]
    assert len(set(ids[0]["events.mark_events"])) == len(ids[0]["events.mark_events"])


PRE_2024_MARKS = """urn,upn,session_date,session,code,extracted_at
{urn},{upn},2024-06-03,AM,H,2024-06-07T16:05:00+01:00
{urn},{upn},2024-06-03,PM,J,2024-06-07T16:05:00+01:00
{urn},{upn},2024-06-04,AM,Y,2024-06-07T16:05:00+01:00
{urn},{upn},2024-06-04,PM,J1,2024-06-07T16:05:00+01:00
{urn},{upn},2024-06-05,AM,K,2024-06-07T16:05:00+01:00
"""


def test_pre_2024_codes_are_accepted_only_before_the_2024_code_set(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    deliver(tiny_la, landing, range(1))
    # The pupil is known first: a mark for a pupil never on roll would be quarantined.
    ingest_landing(landing, db)
    pupil = next(e for e in tiny_la.enrolments if e.admission_date <= tiny_la.days[0])
    folder = landing / pupil.urn / "2024-06-07T15-05-00Z"
    folder.mkdir(parents=True)
    (folder / "marks.csv").write_text(PRE_2024_MARKS.format(urn=pupil.urn, upn=pupil.upn))
    ingest_landing(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "select code from events.mark_events where session_date < '2024-08-19' order by code"
        ).fetchall()
        reasons = con.execute(
            "select line, reason from ops.quarantine where path like '%2024-06-07%' order by line"
        ).fetchall()
    assert [c for (c,) in stored] == ["H", "J", "Y"]
    assert reasons == [
        (5, "code 'J1' is not a register code of the pre-2024 set for 2024-06-04"),
        (6, "code 'K' is not a register code of the pre-2024 set for 2024-06-05"),
    ]
