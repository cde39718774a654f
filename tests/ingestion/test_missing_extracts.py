"""Which schools' extracts for a register day did not arrive: every school the event store knew
by that day, less those with an extract taken that day, each with its latest extract's day."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.ingest import ingest_landing
from ingestion.missing_extracts import check_extracts
from pipeline import daily
from pipeline.run_info import RunInfo
from synthetic import SyntheticLA, write_extracts_for_day
from warehouse.alerts import MISSING_EXTRACT, read_alerts
from warehouse.locations import Locations, resolve_locations


@dataclass(frozen=True)
class Delivered:
    """The tiny LA's extracts of days 0..3 as they arrived, and who sent which."""

    la: SyntheticLA
    locations: Locations
    # School day index -> URNs whose extract for it arrived.
    sent: dict[int, set[str]]
    # The school that joins late (first extract on day 2), the one silent on days 2 and 3,
    # and the one whose day-3 extract was uploaded by hand outside any URN or stamp folder.
    late: str
    silent: str
    by_hand: str


@pytest.fixture(scope="module")
def delivered(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Delivered:
    root = tmp_path_factory.mktemp("missing")
    locations = resolve_locations(root / "landing", root / "warehouse")
    urns = [s.urn for s in tiny_la.schools]
    late, silent, by_hand = urns[1], urns[2], urns[3]
    sent = {
        0: set(urns) - {late},
        1: set(urns) - {late},
        2: set(urns) - {silent},
        3: set(urns) - {late, silent},
    }
    for day_index, senders in sent.items():
        landing = locations.landing
        if day_index == 3:
            # Uploaded by hand: a folder named by neither URN nor stamp, dated by its files.
            upload = landing / "uploads" / "by-hand"
            for path in write_extracts_for_day(tiny_la, 3, root / "held", urns=[by_hand]):
                upload.mkdir(parents=True, exist_ok=True)
                shutil.move(path, upload / path.name)
                taken = tiny_la.extract_time(3).timestamp()
                os.utime(upload / path.name, (taken, taken))
            senders = senders - {by_hand}
        write_extracts_for_day(tiny_la, day_index, landing, urns=senders)
    ingest_landing(locations.landing, locations.warehouse_db)
    return Delivered(tiny_la, locations, sent, late, silent, by_hand)


def test_a_school_whose_extract_did_not_arrive_is_missing_with_its_latest_extract_day(
    delivered: Delivered,
) -> None:
    la, urns = delivered.la, sorted(s.urn for s in delivered.la.schools)
    day2 = check_extracts(delivered.locations, la.days[2])
    assert day2.expected == urns
    assert day2.arrived == sorted(delivered.sent[2])
    assert day2.missing == [delivered.silent]
    assert day2.last_extract == {delivered.silent: la.days[1].isoformat()}

    day3 = check_extracts(delivered.locations, la.days[3])
    assert day3.missing == sorted([delivered.late, delivered.silent])
    assert day3.last_extract == {
        delivered.late: la.days[2].isoformat(),
        delivered.silent: la.days[1].isoformat(),
    }
    assert day3.arrived == sorted(delivered.sent[3])


def test_a_school_first_known_after_the_register_day_is_not_expected(
    delivered: Delivered,
) -> None:
    for day_index in (0, 1):
        check = check_extracts(delivered.locations, delivered.la.days[day_index])
        assert delivered.late not in check.expected
        assert check.expected == check.arrived == sorted(delivered.sent[day_index])
        assert check.missing == [] and check.last_extract == {}


def test_a_file_outside_urn_and_stamp_folders_counts_for_its_rows_school_on_its_files_day(
    delivered: Delivered,
) -> None:
    """Its files' school is the one their rows were stored under (after a school's first day
    only its marks are news), their day the files' modification time."""
    la = delivered.la
    assert delivered.by_hand in check_extracts(delivered.locations, la.days[3]).arrived
    next_day = check_extracts(delivered.locations, la.days[4])
    assert next_day.last_extract[delivered.by_hand] == la.days[3].isoformat()


def test_a_day_after_the_last_extract_misses_every_known_school(delivered: Delivered) -> None:
    la = delivered.la
    check = check_extracts(delivered.locations, la.days[4])
    assert check.arrived == []
    assert check.missing == check.expected == sorted(s.urn for s in la.schools)
    record = check.as_record()
    assert record["schools_expected"] == len(la.schools)
    assert record["schools_arrived"] == 0
    assert record["last_extract"] == {
        delivered.late: la.days[2].isoformat(),
        delivered.silent: la.days[1].isoformat(),
        **{urn: la.days[3].isoformat() for urn in delivered.sent[3]},
    }
    reason = check.reason(delivered.silent)
    assert str(la.days[4]) in reason and la.days[1].isoformat() in reason


def test_the_daily_check_records_one_alert_per_missing_school(
    delivered: Delivered, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(delivered.locations.warehouse, warehouse)
    run = RunInfo.for_day(
        delivered.la.days[3],
        landing=str(delivered.locations.landing),
        warehouse=str(warehouse),
        run_id="day-3",
        task_id="check_extracts",
    )
    record = daily.check_extracts(run)
    assert record["missing_schools"] == sorted([delivered.late, delivered.silent])
    alerts = read_alerts(warehouse)
    assert [(a.kind, a.run_id, a.task_id, a.school) for a in alerts] == [
        (MISSING_EXTRACT, "day-3", "check_extracts", urn) for urn in record["missing_schools"]
    ]
    assert {a.register_day for a in alerts} == {delivered.la.days[3].isoformat()}


def test_a_run_without_a_day_takes_the_latest_day_the_extracts_cover(
    delivered: Delivered, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last term's folder is checked for its own last day (only the two schools that did
    not send that day are missing), not for today (every known school missing); with a MIS
    feed, whose pull brings today's extracts during the run, the day is today."""
    from datetime import date

    from ingestion.http_pull.config import URL_ENV
    from ingestion.missing_extracts import latest_extract_day
    from pipeline.console import default_register_day

    la, landing = delivered.la, delivered.locations.landing
    monkeypatch.delenv(URL_ENV, raising=False)
    assert latest_extract_day(landing) == la.days[3]
    assert default_register_day(landing) == (la.days[3], "the latest day the extracts cover")
    check = check_extracts(delivered.locations, la.days[3])
    assert check.missing == sorted({delivered.late, delivered.silent})
    assert check_extracts(delivered.locations, date.today()).missing == check.expected
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9/feed")
    assert default_register_day(landing)[0] == date.today()


def test_an_empty_landing_folder_covers_no_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from ingestion.http_pull.config import URL_ENV
    from ingestion.missing_extracts import latest_extract_day
    from pipeline.console import default_register_day

    monkeypatch.delenv(URL_ENV, raising=False)
    assert latest_extract_day(tmp_path) is None
    assert default_register_day(tmp_path) == (
        date.today(),
        f"today (no extract has landed in {tmp_path})",
    )


def test_a_schools_file_copied_today_does_not_make_today_a_day_the_extracts_cover(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    """A schools reference file outside any stamped folder is dated by its copy (today);
    the registers it came with are still last term's."""
    from ingestion.missing_extracts import latest_extract_day

    for day_index in range(3):
        write_extracts_for_day(tiny_la, day_index, tmp_path)
    school = tiny_la.schools[0].urn
    reference = sorted((tmp_path / school).glob("*/schools.*"))[-1]
    shutil.move(reference, tmp_path / school / reference.name)
    assert latest_extract_day(tmp_path) == tiny_la.days[2]
