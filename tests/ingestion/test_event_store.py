"""The event store: append-only, idempotent, independent of the order extracts arrive in."""

import csv
import hashlib
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from ingestion.landing import stamp_of, stamp_time
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


def _expected_pupil_events(la: SyntheticLA, days: range) -> list[tuple]:
    """(urn, upn, event type, extract day) of each state an enrolment's pupils rows went
    through in the extracts of `days`, from the generator's record: a row is news when its
    SEN status, its flags as written (a column the school left out is blank) or its leaving
    date (written once the pupil has gone) differs from the row before; the first row admits
    the pupil; a leaving date newly set is `left`. A pupil the MIS dropped has no row after
    the last day on roll, and no leaving date."""
    expected = []
    for e in la.enrolments:
        previous = None
        dropped = (e.urn, e.upn) in la.unrecorded_leavers
        for day_index in days:
            window_start = la.days[la.window(day_index)[0]]
            today = la.days[day_index]
            if e.admission_date > today or (e.leaving_date and e.leaving_date < window_start):
                continue  # not on roll in the extract's window: no pupils row
            if dropped and e.leaving_date is not None and e.leaving_date < today:
                continue
            leaving = e.leaving_date if e.leaving_date and e.leaving_date <= today else None
            leaving = None if dropped else leaving
            left_out = la.left_out(e.urn, day_index)
            flags = tuple(
                None if flag in left_out else value
                for flag, value in sorted(e.flags_on(day_index).items())
            )
            state = (e.sen_on(day_index), flags, leaving)
            if state == previous:
                continue
            if previous is None:
                event_type = "admitted"
            elif leaving is not None and previous[2] is None:
                event_type = "left"
            else:
                event_type = "characteristics_changed"
            expected.append((e.urn, e.upn, event_type, day_index))
            previous = state
    return sorted(expected)


def test_each_pupil_and_school_event_is_a_change_the_extracts_showed(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    """Pupils rows repeated unchanged day after day are duplicates; admissions, SEN changes
    and leavers are the events, each of its type (a pupil who moves school leaves one
    enrolment and is admitted to another)."""
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    days = range(6)
    deliver(tiny_la, landing, days)
    ingest_landing(landing, db)
    day_of = {tiny_la.extract_time(d): d for d in days}
    with duckdb.connect(str(db), read_only=True) as con:
        pupils = con.execute(
            "select urn, upn, event_type, transaction_time from events.pupil_events"
        ).fetchall()
        schools = con.execute(
            "select urn, event_type, count(*) from events.school_events group by all order by all"
        ).fetchall()
    got = sorted((urn, upn, kind, day_of[time]) for urn, upn, kind, time in pupils)
    expected = _expected_pupil_events(tiny_la, days)
    assert got == expected
    kinds = {kind for _, _, kind, _ in expected}
    assert kinds == {"admitted", "characteristics_changed", "left"}
    leavers = {(e.urn, e.upn) for e in tiny_la.enrolments if e.leaving_date}
    assert {(urn, upn) for urn, upn, kind, _ in got if kind == "left"} == leavers
    assert schools == [(s.urn, "school_registered", 1) for s in tiny_la.schools]


def _re_export(folder: Path, later: timedelta, key: tuple, code: str | None = None) -> Path:
    """The MIS's extract `folder` taken again `later`; with `code`, the mark `key` (upn,
    session date, session) changed to it but its last_modified left as it was: a tie in
    transaction time between two extracts."""
    again = folder.parent / stamp_of(stamp_time(folder.name) + later)
    again.mkdir()
    changed = 0
    for path in folder.iterdir():
        with path.open(encoding="utf-8-sig", newline="") as source:
            reader = csv.DictReader(source)
            rows = list(reader)
        for row in rows:
            if "extracted_at" in row:
                taken = datetime.fromisoformat(row["extracted_at"]) + later
                row["extracted_at"] = taken.isoformat()
            mark = (row.get("upn"), row.get("session_date"), row.get("session"))
            if code and mark == key and row.get("code"):
                row["code"] = code
                changed += 1
        with (again / path.name).open("w", encoding="utf-8", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=reader.fieldnames, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    assert changed == (1 if code else 0)
    return again


def _current_code(database: Path, urn: str, key: tuple) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select code from ({CURRENT_MARKS}) "
            "where urn = ? and upn = ? and session_date = ? and session = ?",
            [urn, *key],
        ).fetchall()
    return rows[0][0]


def _history_of(database: Path, urn: str, key: tuple) -> list[tuple]:
    """The mark's stored states in the order of its history: (code, extracted_at)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select code, extracted_at from events.mark_events "
            "where urn = ? and upn = ? and session_date = ? and session = ? "
            "order by transaction_time, extracted_at",
            [urn, *key],
        ).fetchall()


def _new_rows(database: Path, folder: Path, source: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select sum(rows_new) from ops.ingest_audit where path like ?",
            [f"{folder.relative_to(source)}/%"],
        ).fetchone()[0]


def test_ties_in_transaction_time_are_placed_by_extract_time_whatever_arrives_first(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    """Three extracts of one day whose marks share their last_modified: the first, an
    unchanged copy an hour later, and one two hours later with one mark changed. The later
    extract's code is current; the copy, even when it arrives last, is a duplicate: placed
    between the two by its extract time, it changes nothing."""
    school = next(s for s in tiny_la.schools if s.sends_last_modified and s.file_format == "csv")
    day = tiny_la.days[1]
    (urn, upn, _, session), mark = next(
        (key, mark)
        for key, mark in sorted(tiny_la.marks.items())
        if key[0] == school.urn and key[2] == day and mark.code not in ("", "I")
    )
    key = (upn, day.isoformat(), session)
    source = tmp_path / "source"
    deliver(tiny_la, source, range(2))
    first = source / urn / stamp_of(tiny_la.extract_time(1))
    copy = _re_export(first, timedelta(hours=1), key)
    changed = _re_export(first, timedelta(hours=2), key, "I")
    assert mark.code != "I"

    histories = {}
    for name, order in (("in order", [copy, changed]), ("copy late", [changed, copy])):
        landing, db = tmp_path / name / "landing", tmp_path / name / "wh.duckdb"
        for folder in sorted({p.parent for p in source.rglob("*.*")} - {copy, changed}):
            _arrive(folder, source, landing)
        ingest_landing(landing, db)
        for folder in order:
            _arrive(folder, source, landing)
            ingest_landing(landing, db)
        assert _current_code(db, urn, key) == "I", name
        assert [code for code, _ in _history_of(db, urn, key)] == [mark.code, "I"], name
        assert _new_rows(db, copy, source) == 0, name
        histories[name] = _history_of(db, urn, key)
    assert histories["in order"] == histories["copy late"]
