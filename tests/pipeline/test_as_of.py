"""`as_of` is the time of the data, never the clock of the run or a file's modification time.

The same extracts, landed as a copy would land them (the schools reference outside any
stamped folder, every file's modification time that of the copy), are ingested, built and
published at two different times: every mart and both publications read the same `as_of`,
the latest transaction time computed from the generator's record.
"""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline import daily
from pipeline.run_info import RunInfo
from publication.publish import PUBLISHED_MARTS
from publication.record import PublicationRecord, read_record
from synthetic import SyntheticLA
from tests.support.extracts import deliver
from tests.support.truth.as_of import latest_transaction_time
from warehouse.register_days import end_of_day

DAYS = range(4)
# When the folder was copied, in two deployments: years after the data was taken.
COPIED = (datetime(2026, 12, 2, 8, 39, tzinfo=UTC), datetime(2027, 3, 1, 7, 0, tzinfo=UTC))


def _land_as_a_copy(la: SyntheticLA, landing: Path, copied: datetime) -> None:
    """The extracts of DAYS, with each school's latest schools file moved out of its stamped
    folder (an unstamped reference file) and every file's modification time `copied`."""
    deliver(la, landing, DAYS)
    for school in la.schools:
        files = sorted((landing / school.urn).glob("*/schools.*"))
        shutil.move(files[-1], landing / school.urn / files[-1].name)
        for older in files[:-1]:
            older.unlink()
    stamp = copied.timestamp()
    for path in landing.rglob("*"):
        os.utime(path, (stamp, stamp))


def _publish(root: Path, day) -> RunInfo:  # noqa: ANN001 - a date or None
    run = RunInfo.for_day(
        day, landing=str(root / "landing"), warehouse=str(root / "warehouse"), run_id=str(day)
    )
    daily.build(run)
    daily.publish(run, None)
    return run


def _as_of_by_mart(published: Path) -> dict[str, list[datetime]]:
    with duckdb.connect(str(published / "published.duckdb"), read_only=True) as con:
        with_as_of = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.columns where column_name = 'as_of'"
            ).fetchall()
        }
        return {
            mart: [
                row[0] for row in con.execute(f"select distinct as_of from main.{mart}").fetchall()
            ]
            for mart in PUBLISHED_MARTS
            if mart in with_as_of
        }


def _record(run: RunInfo) -> PublicationRecord:
    record = read_record(run.locations.published)
    assert record is not None
    return record


@pytest.fixture(scope="module")
def two_deployments(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory):
    """The same extracts copied at two times, each ingested and published at its own time;
    the first also published an earlier register day (with a cut-off) before the last."""
    roots = [tmp_path_factory.mktemp(f"copy{i}") for i in range(2)]
    for root, copied in zip(roots, COPIED, strict=True):
        _land_as_a_copy(tiny_la, root / "landing", copied)
        daily.ingest(
            RunInfo.for_day(None, landing=str(root / "landing"), warehouse=str(root / "warehouse"))
        )
    earlier = _publish(roots[0], tiny_la.days[1])
    earlier_record = _record(earlier)
    runs = [_publish(roots[0], tiny_la.days[DAYS[-1]]), _publish(roots[1], None)]
    return earlier, earlier_record, runs


def test_every_mart_and_the_publication_read_the_time_of_the_data(
    tiny_la: SyntheticLA, two_deployments
) -> None:
    _, _, runs = two_deployments
    truth = latest_transaction_time(tiny_la, DAYS)
    assert truth is not None and truth < COPIED[0]
    for run in runs:
        by_mart = _as_of_by_mart(run.locations.published)
        # The marts of MARTS.md version 1 at least; any mart added since is checked too.
        assert set(PUBLISHED_MARTS[:7]) <= set(by_mart)
        assert by_mart == {mart: [truth] for mart in by_mart}
        assert datetime.fromisoformat(_record(run).as_of) == truth


def test_a_copy_made_later_does_not_cut_off_the_schools_reference(
    tiny_la: SyntheticLA, two_deployments
) -> None:
    """The latest register day of the copied extracts needs no cut-off: nothing in the data
    is later than it, whatever the files' modification times say."""
    _, _, runs = two_deployments
    assert _record(runs[0]).run.cutoff is None
    assert daily.cutoff_for(runs[1].locations, RunInfo.for_day(tiny_la.days[DAYS[-1]])) is None
    with duckdb.connect(str(runs[0].locations.published / "published.duckdb"), True) as con:
        areas = {
            row[0]
            for row in con.execute(
                "select area from attendance_by_sen where level = 'la'"
            ).fetchall()
        }
    assert areas == {tiny_la.config.la_code}


def test_the_record_keeps_the_cut_off_apart_from_as_of(
    tiny_la: SyntheticLA, two_deployments
) -> None:
    earlier, record, _ = two_deployments
    cutoff = end_of_day(tiny_la.days[1])
    assert record.run.cutoff is not None
    assert datetime.fromisoformat(record.run.cutoff) == cutoff
    as_of = datetime.fromisoformat(record.as_of)
    assert as_of == latest_transaction_time(tiny_la, DAYS, cutoff)
    assert as_of <= cutoff < datetime.fromisoformat(_record(two_deployments[2][0]).as_of)


def test_a_day_already_covered_is_superseded_a_later_one_is_not(
    tiny_la: SyntheticLA, two_deployments
) -> None:
    _, _, runs = two_deployments
    current = _record(runs[0])
    assert daily.superseded_reason(current, RunInfo.for_day(tiny_la.days[1])) is not None
    assert daily.superseded_reason(current, RunInfo.for_day(tiny_la.days[DAYS[-1]])) is None
