"""The landing folder's layout: which files are extracts, whose, and when they were taken."""

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingestion.landing import (
    extract_time_of,
    find_extract_files,
    stamp_of,
    stamp_time,
    urn_of_path,
)
from synthetic import SyntheticLA
from tests.support.extracts import deliver

KIND_ORDER = ["schools", "pupils", "marks"]


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("2025-09-15T16-05-00Z", datetime(2025, 9, 15, 16, 5, tzinfo=UTC)),
        ("2025-09-15T16-05-00", datetime(2025, 9, 15, 16, 5, tzinfo=UTC)),
        ("2025-09-15T17-05-00+0100", datetime(2025, 9, 15, 16, 5, tzinfo=UTC)),
        ("2025-12-01T09-30-15-0500", datetime(2025, 12, 1, 14, 30, 15, tzinfo=UTC)),
    ],
)
def test_a_stamp_names_the_moment_its_extract_was_taken(name: str, taken: datetime) -> None:
    assert stamp_time(name) == taken


@pytest.mark.parametrize(
    "name", ["latest", "2025-09-15", "2025-09-15T16:05:00Z", "x2025-09-15T16-05-00Z", "100001"]
)
def test_other_folder_names_are_not_stamps(name: str) -> None:
    assert stamp_time(name) is None


def test_a_stamp_is_written_in_utc_and_read_back_as_the_same_moment() -> None:
    summer = datetime(2025, 9, 15, 17, 5, tzinfo=timezone(timedelta(hours=1)))
    assert stamp_of(summer) == "2025-09-15T16-05-00Z"
    for moment in (summer, datetime(2026, 1, 5, 16, 5, tzinfo=UTC)):
        assert stamp_time(stamp_of(moment)) == moment


@pytest.mark.parametrize(
    ("path", "urn"),
    [
        ("100001/2025-09-15T16-05-00Z/marks.csv", "100001"),
        # Pulled extracts sit one folder deeper, under their source.
        ("mis-feed/100008/2025-09-15T16-05-00Z/pupils.jsonl.gz", "100008"),
        # The nearest six-digit folder is the school's, not one further up.
        ("123456/feeds/100015/2025-09-15T16-05-00Z/marks.csv", "100015"),
        # The file's own name is not a folder; nor are five- or seven-digit folders URNs.
        ("2025-09-15T16-05-00Z/100001.csv", None),
        ("10001/2025-09-15T16-05-00Z/marks.csv", None),
        ("1000011/2025-09-15T16-05-00Z/marks.csv", None),
        ("marks.csv", None),
        # Six digits of another script are not a URN: only ASCII 0-9 (the contract's digits).
        ("\u0661\u0660\u0660\u0660\u0660\u0661/2025-09-15T16-05-00Z/marks.csv", None),
        ("\uff11\uff10\uff10\uff10\uff10\uff11/2025-09-15T16-05-00Z/marks.csv", None),
        ("\u0967\u0966\u0966\u0966\u0966\u0967/2025-09-15T16-05-00Z/marks.csv", None),
        ("100001/\u0661\u0660\u0660\u0660\u0660\u0661/marks.csv", "100001"),
    ],
)
def test_a_files_school_is_its_nearest_six_digit_folder(path: str, urn: str | None) -> None:
    assert urn_of_path(path) == urn
    assert urn_of_path(Path("/srv/landing") / path) == urn


def test_generated_extracts_are_found_with_their_kind_school_and_time(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    days = range(3)
    deliver(tiny_la, landing, days)
    (landing / "README.txt").write_text("not an extract")
    (landing / tiny_la.schools[0].urn / "notes.csv").write_text("not an extract either")
    found = find_extract_files(landing)

    # One file of each kind per school and day, nothing else.
    assert len(found) == len(tiny_la.schools) * len(days) * len(KIND_ORDER)
    taken = {tiny_la.extract_time(d): d for d in days}
    seen = set()
    for extract in found:
        urn = urn_of_path(extract.path.relative_to(landing))
        day = taken[extract_time_of(extract.path)]
        seen.add((urn, day, extract.kind.name))
    assert seen == {(s.urn, d, kind) for s in tiny_la.schools for d in days for kind in KIND_ORDER}

    # A school's extracts oldest first; within one, schools before pupils before marks.
    for school in tiny_la.schools:
        own = [e for e in found if urn_of_path(e.path) == school.urn]
        order = [(extract_time_of(e.path), KIND_ORDER.index(e.kind.name)) for e in own]
        assert order == sorted(order)


def test_a_file_outside_a_stamped_folder_was_taken_when_it_was_last_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "100001" / "latest" / "marks.csv"
    path.parent.mkdir(parents=True)
    path.write_text("urn,upn,session_date,session,code,extracted_at\n")
    written = datetime(2025, 9, 15, 16, 5, tzinfo=UTC)
    os.utime(path, (written.timestamp(), written.timestamp()))
    assert extract_time_of(path) == written
    # The nearest stamped folder wins over the file's time.
    stamped = tmp_path / "100001" / "2025-09-16T16-05-00Z" / "sub" / "marks.csv"
    stamped.parent.mkdir(parents=True)
    stamped.write_text("")
    os.utime(stamped, (written.timestamp(), written.timestamp()))
    assert extract_time_of(stamped) == datetime(2025, 9, 16, 16, 5, tzinfo=UTC)


def test_a_folder_shaped_like_a_stamp_but_no_moment_is_not_a_stamp(tmp_path: Path) -> None:
    path = tmp_path / "100001" / "2025-13-45T16-05-00Z" / "marks.csv"
    path.parent.mkdir(parents=True)
    path.write_text("urn,upn,session_date,session,code,extracted_at\n")
    written = datetime(2025, 9, 15, 16, 5, tzinfo=UTC)
    os.utime(path, (written.timestamp(), written.timestamp()))
    # The file's own time stands in, as for any folder that is not a stamp.
    assert extract_time_of(path) == written
