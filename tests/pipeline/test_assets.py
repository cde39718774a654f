"""The assets the publish task updates and what their events carry: the publication's record
on the publication asset, each mart's rows and fingerprint on its own; a downstream run
takes the newest publication event that triggered it."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.assets import (
    PUBLICATION,
    emit_publication,
    latest_publication_event,
    mart_asset,
    publish_outlets,
)
from publication.publish import PUBLISHED_MARTS
from publication.record import PublicationRecord, PublishingRun
from synthetic import SyntheticLA
from tests.support.asset_events import asset_event, outlet_events, triggered_by
from tests.support.published import mart_fingerprints, publish_again

T0 = datetime(2025, 9, 12, 17, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def record(
    published: Path, serving_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory
) -> PublicationRecord:
    """A publication of the shared LA's marts by a run of the last register day."""
    warehouse = tmp_path_factory.mktemp("assets") / "warehouse"
    run = PublishingRun(
        dag_id="attendance_daily",
        run_id="scheduled__day-9",
        register_day=serving_la.days[-1].isoformat(),
        warehouse=str(warehouse),
        missing_schools=(serving_la.schools[2].urn,),
    )
    return publish_again(published, warehouse, run)


def test_the_publish_task_updates_the_publication_then_every_published_mart() -> None:
    assert publish_outlets() == [PUBLICATION, *(mart_asset(m) for m in PUBLISHED_MARTS)]
    assert len({asset.uri for asset in publish_outlets()}) == 1 + len(PUBLISHED_MARTS)
    assert mart_asset("pupil_attendance").uri == (
        "attendance://warehouse/published/pupil_attendance"
    )


def test_the_publication_event_carries_the_whole_record(record: PublicationRecord) -> None:
    events = outlet_events()
    emit_publication(events, record.as_dict())
    extra = events[PUBLICATION].extra
    # Airflow stores the extra as JSON; a downstream run reads the record back from it.
    assert PublicationRecord.from_dict(json.loads(json.dumps(extra))) == record
    # Only the publish task's outlets have events (Airflow gives back their name and URI).
    assert {(a.name, a.uri) for a in events} == {(a.name, a.uri) for a in publish_outlets()}


def test_each_mart_event_carries_its_rows_and_fingerprint(record: PublicationRecord) -> None:
    events = outlet_events()
    emit_publication(events, record.as_dict())
    folder = Path(record.run.warehouse or "") / "published"
    database = folder / record.database
    fingerprints = mart_fingerprints(database, PUBLISHED_MARTS)
    with duckdb.connect(str(database), read_only=True) as con:
        counted = {
            m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in PUBLISHED_MARTS
        }
    for mart in PUBLISHED_MARTS:
        assert events[mart_asset(mart)].extra == {
            "register_day": record.run.register_day,
            "warehouse": record.run.warehouse,
            "run_id": record.run.run_id,
            "as_of": record.as_of,
            "rows": counted[mart],
            "fingerprint": fingerprints[mart],
        }, mart
    assert all(counted.values())


def test_the_newest_of_several_publication_events_wins() -> None:
    """Publications faster than the scheduler are merged into one downstream run: the
    newest event is what the published folder holds, whatever order they are listed in."""
    extras = [{"version": f"v{n}", "run_id": f"run-{n}"} for n in range(3)]
    times = [T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=1)]
    events = [asset_event(extra, at) for extra, at in zip(extras, times, strict=True)]
    for order in (events, events[::-1], [events[1], events[0], events[2]]):
        context = {"triggering_asset_events": triggered_by(*order)}
        assert latest_publication_event(context) == extras[1]


def test_the_event_found_is_a_copy_of_its_extra() -> None:
    event = asset_event({"version": "v1", "rows": {"pupil_attendance": 3}}, T0)
    found = latest_publication_event({"triggering_asset_events": triggered_by(event)})
    assert found is not None
    found["version"] = "changed"
    assert event.extra["version"] == "v1"


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"triggering_asset_events": None},
        {"triggering_asset_events": triggered_by()},
        # An event of a mart asset is not a publication event.
        {
            "triggering_asset_events": triggered_by(
                asset_event({"version": "v1"}, T0, mart_asset("pupil_attendance"))
            )
        },
    ],
    ids=["no events", "none", "empty", "mart only"],
)
def test_a_run_not_triggered_by_a_publication_has_no_publication_event(context: dict) -> None:
    assert latest_publication_event(context) is None
