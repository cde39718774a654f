"""Day by day, the incrementally built marts equal a --full-refresh build of the same store.

absence_episodes and school_daily_attendance are built from incremental intermediates that
recompute only what the sessions rewritten since their previous build can change. Each
morning below is built incrementally, then a copy of the warehouse is rebuilt with
--full-refresh, and every mart must be identical row for row. The mornings meet what moves
episodes and days without a full rebuild: N marks resolved days later, an amendment of an
older mark inside the window (splitting an episode, and making a new absence), a backdated
SEN change, a pupil who leaves during an open episode (closed only by the school's latest
open session moving on), and a closure day (a date with marks that is not a school day).
"""

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from pipeline.marts import build_marts
from synthetic import SyntheticLA, build_la
from synthetic.model import SenStatus
from tests.support.extracts import deliver
from tests.support.marts import CONFIG, MARTS, run_dbt, snapshot

ABSENT = {"I", "M", "O", "G", "N", "U", "C", "R", "E"}
# Four incremental mornings, one for each thing that moves episodes and days: an amendment
# (day 11), a backdated SEN change on the closure day (12), a pupil leaving while absent (13)
# and the morning after (14). Each morning costs two dbt builds (incremental and a full
# refresh): ordinary mornings around them would check nothing more.
FIRST_INCREMENTAL_DAY = 11
LAST_DAY = 14
AMEND_ON, SEN_ON, LEAVE_AFTER = 11, 12, 13


def _quiet(_: str) -> None:
    pass


def _amend_older_marks(la: SyntheticLA, on_day: int) -> list[tuple]:
    """As if a school amended two marks five and three days back, seen by `on_day`'s extract:
    an absence inside a run of absences becomes present (the episode splits), and a present
    mark becomes an authorised absence."""
    split_day, absent_day = la.days[on_day - 5], la.days[on_day - 3]
    when = la.extract_time(on_day) - timedelta(hours=3)
    amended = []
    for (urn, upn, day, session), mark in sorted(la.marks.items()):
        if day != split_day or session != "PM" or mark.as_seen_on(on_day)[0] not in ABSENT:
            continue
        morning = la.marks.get((urn, upn, day, "AM"))
        if morning and morning.as_seen_on(on_day)[0] in ABSENT:
            mark.amendments.append((on_day, "/", when))
            amended.append((urn, upn, day, session))
            break
    for (urn, upn, day, session), mark in sorted(la.marks.items()):
        if day == absent_day and mark.as_seen_on(on_day)[0] == "/":
            mark.amendments.append((on_day, "I", when))
            amended.append((urn, upn, day, session))
            break
    assert len(amended) == 2, amended
    return amended


def _backdate_a_sen_change(la: SyntheticLA, on_day: int) -> tuple[str, str]:
    """An EHC plan recorded on `on_day`, effective from four school days before (a school
    that sends effective dates), so that sessions already built change SEN status."""
    sends = {s.urn for s in la.schools if s.sends_last_modified}
    enrolment = next(
        e
        for e in la.enrolments
        if e.urn in sends
        and len(e.sen_history) == 1
        and e.sen_history[0][1].provision == "N"
        and la.on_roll(e, la.days[0])
        and e.leaving_date is None
    )
    enrolment.sen_history.append((on_day - 4, SenStatus("E", "ASD")))
    return enrolment.urn, enrolment.upn


def _a_pupil_leaves_while_absent(la: SyntheticLA, last_day: int) -> tuple[str, str]:
    """A pupil absent at the last session of `last_day` leaves: no marks after it."""
    day = la.days[last_day]
    urn, upn = next(
        (urn, upn)
        for (urn, upn, session_date, session), mark in sorted(la.marks.items())
        if session_date == day
        and session == "PM"
        and mark.as_seen_on(last_day)[0] in ABSENT - {"N"}
        and not mark.amendments
    )
    for key in [k for k in la.marks if k[0] == urn and k[1] == upn and k[2] > day]:
        del la.marks[key]
    enrolment = next(e for e in la.enrolments if e.urn == urn and e.upn == upn)
    enrolment.leaving_date = day
    return urn, upn


def _open_episodes(database: Path, urn: str, upn: str) -> list[bool]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [
            is_open
            for (is_open,) in con.execute(
                "select is_open from absence_episodes where urn = ? and upn = ? order by all",
                [urn, upn],
            ).fetchall()
        ]


@pytest.fixture(scope="module")
def mornings(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each incremental morning's marts and a full refresh's, and what the scenario did."""
    la = build_la(CONFIG)  # its own: the scenario changes the authority's marks
    root = tmp_path_factory.mktemp("incremental_marts")
    landing, database = root / "landing", root / "warehouse.duckdb"
    compared: dict[int, tuple[dict, dict]] = {}
    seen: dict[str, object] = {}

    deliver(la, landing, range(0, FIRST_INCREMENTAL_DAY))
    ingest_landing(landing, database, progress=_quiet)
    build_marts(database, root, progress=_quiet)  # the first build: full
    for day in range(FIRST_INCREMENTAL_DAY, LAST_DAY + 1):
        if day == AMEND_ON:
            seen["amended"] = _amend_older_marks(la, day)
        if day == SEN_ON:
            seen["sen_change"] = _backdate_a_sen_change(la, day)
        deliver(la, landing, range(day, day + 1))
        ingest_landing(landing, database, progress=_quiet)
        build_marts(database, root, progress=_quiet)  # incremental
        refreshed = root / f"refreshed-{day}.duckdb"
        shutil.copy(database, refreshed)
        run_dbt(refreshed, root / "refresh", "build", "--full-refresh")
        compared[day] = (snapshot(database), snapshot(refreshed))
        refreshed.unlink()
        if day == LEAVE_AFTER:
            leaver = _a_pupil_leaves_while_absent(la, day)
            seen["leaver"] = leaver
            seen["leaver_open_before"] = _open_episodes(database, *leaver)
        if day == LEAVE_AFTER + 1:
            seen["leaver_open_after"] = _open_episodes(database, *seen["leaver"])
    return {"compared": compared, "seen": seen, "database": database, "la": la}


def test_every_incremental_morning_equals_a_full_refresh(mornings: dict) -> None:
    # The closure day is one of the mornings compared.
    assert CONFIG.closure_day in mornings["compared"]
    for day, (incremental, refreshed) in mornings["compared"].items():
        for relation in MARTS:
            assert incremental[relation] == refreshed[relation], (day, relation)


def test_the_mornings_met_late_n_resolutions_and_amendments(mornings: dict) -> None:
    with duckdb.connect(str(mornings["database"]), read_only=True) as con:
        resolved_late = con.execute(
            """
            select count(*) from events.mark_events as later
            where later.event_type = 'mark_changed' and exists (
                select 1 from events.mark_events as first
                where first.code = 'N' and first.urn = later.urn and first.upn = later.upn
                    and first.session_date = later.session_date
                    and first.session = later.session
                    and first.ingested_at < later.ingested_at
            )
            and later.session_date >= ?
            """,
            [mornings["la"].days[FIRST_INCREMENTAL_DAY - 3]],
        ).fetchone()[0]
        amended = [
            con.execute(
                "select list(code order by transaction_time) from events.mark_events "
                "where urn = ? and upn = ? and session_date = ? and session = ?",
                list(key),
            ).fetchone()[0]
            for key in mornings["seen"]["amended"]
        ]
    assert resolved_late > 0
    assert amended[0][-1] == "/" and amended[0][0] in ABSENT, amended
    assert amended[1] == ["/", "I"], amended


def test_the_backdated_sen_change_reached_older_sessions(mornings: dict) -> None:
    urn, upn = mornings["seen"]["sen_change"]
    since = mornings["la"].days[SEN_ON - 4]
    with duckdb.connect(str(mornings["database"]), read_only=True) as con:
        statuses = con.execute(
            "select session_date >= ?, list(distinct sen_provision) from fct_sessions "
            "where urn = ? and upn = ? group by all order by 1",
            [since, urn, upn],
        ).fetchall()
    assert statuses == [(False, ["N"]), (True, ["E"])]


def test_the_leaver_s_episode_closed_when_the_school_moved_on(mornings: dict) -> None:
    seen = mornings["seen"]
    assert seen["leaver_open_before"][-1] is True, seen["leaver_open_before"]
    assert seen["leaver_open_after"] == [False] * len(seen["leaver_open_after"])
