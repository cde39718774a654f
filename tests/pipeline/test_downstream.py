"""The downstream runs (exports, report, serving) work on the publication whose event triggered
them; run by hand, on the last publication of the warehouse their params (or
ATTENDANCE_WAREHOUSE) name. A run triggered by a publication since replaced does nothing."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.downstream import downstream_run, exports, report, serving
from publication.record import PublicationRecord, PublishingRun, read_record
from serving.postgres import DSN_ENV
from synthetic import SyntheticLA
from tests.support.asset_events import asset_event, triggered_by
from tests.support.published import file_fingerprints, publish_again
from warehouse.locations import WAREHOUSE_ENV


@dataclass(frozen=True)
class Publications:
    """A warehouse that published day 8 (`older`), then day 9 (`current`)."""

    warehouse: Path
    older: PublicationRecord
    current: PublicationRecord
    la: SyntheticLA


@pytest.fixture
def publications(
    published: Path, serving_la: SyntheticLA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Publications:
    # Neither the developer's environment nor a serving database: only what a test sets.
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    monkeypatch.delenv(DSN_ENV, raising=False)
    warehouse = tmp_path / "warehouse"
    records = [
        publish_again(
            published,
            warehouse,
            PublishingRun(
                dag_id="attendance_daily",
                run_id=f"scheduled__day-{day_index}",
                register_day=serving_la.days[day_index].isoformat(),
                warehouse=str(warehouse),
            ),
        )
        for day_index in (8, 9)
    ]
    assert records[0].version < records[1].version
    return Publications(warehouse, *records, serving_la)


def _triggered(*records: PublicationRecord) -> dict[str, Any]:
    """The context of a downstream run triggered by these publications' events, in order."""
    start = datetime(2025, 9, 12, 17, 10, tzinfo=UTC)
    events = [asset_event(r.as_dict(), start + timedelta(minutes=n)) for n, r in enumerate(records)]
    return {"triggering_asset_events": triggered_by(*events), "params": {}}


def _written(warehouse: Path) -> set[str]:
    """What downstream runs write beside the publication."""
    return {p.name for p in warehouse.iterdir()} - {"published", "work"}


def test_run_by_hand_it_takes_the_last_publication_of_the_warehouse_in_its_params(
    publications: Publications,
) -> None:
    run = downstream_run({"params": {"warehouse": str(publications.warehouse)}})
    assert run.locations.warehouse == publications.warehouse
    assert run.publication == publications.current
    assert run.register_day == publications.la.days[9]
    assert run.superseded is None


def test_a_register_day_param_names_the_day_of_a_run_by_hand(
    publications: Publications,
) -> None:
    day = publications.la.days[3]
    params = {"warehouse": str(publications.warehouse), "register_day": day.isoformat()}
    run = downstream_run({"params": params})
    assert (run.register_day, run.publication) == (day, publications.current)


def test_without_params_the_warehouse_is_attendance_warehouses(
    publications: Publications, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WAREHOUSE_ENV, str(publications.warehouse))
    assert downstream_run({}).publication == publications.current
    # A param wins over the variable.
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "elsewhere"))
    params = {"params": {"warehouse": str(publications.warehouse)}}
    assert downstream_run(params).publication == publications.current


def test_a_warehouse_without_a_publication_has_nothing_to_work_on(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="has no publication"):
        downstream_run({"params": {"warehouse": str(tmp_path / "empty")}})


def test_a_publication_naming_no_register_day_needs_one_in_the_params(published: Path) -> None:
    record = read_record(published)
    assert record is not None and record.run.register_day is None
    params = {"warehouse": str(published.parent)}
    with pytest.raises(ValueError, match="no register day"):
        downstream_run({"params": params})
    run = downstream_run({"params": {**params, "register_day": "2025-09-12"}})
    assert (run.register_day, run.publication) == (date(2025, 9, 12), record)


def test_a_triggered_run_works_on_its_events_publication_and_warehouse(
    publications: Publications, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event's warehouse and day win over params and the environment, which may name
    another warehouse altogether (the DAG's defaults)."""
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "from-environment"))
    context = _triggered(publications.current)
    context["params"] = {
        "warehouse": str(tmp_path / "from-params"),
        "register_day": publications.la.days[0].isoformat(),
    }
    run = downstream_run(context)
    assert run.locations.warehouse == publications.warehouse
    assert run.publication == publications.current
    assert run.register_day == publications.la.days[9]
    assert run.superseded is None


def test_a_run_triggered_by_a_replaced_publication_writes_nothing(
    publications: Publications,
) -> None:
    context = _triggered(publications.older)
    run = downstream_run(context)
    assert run.publication == publications.older
    assert run.register_day == publications.la.days[8]
    assert run.superseded is not None
    assert publications.older.version in run.superseded
    assert publications.current.version in run.superseded
    before = file_fingerprints(publications.warehouse)
    for task in (exports, report, serving):
        assert task(context) == {"skipped": run.superseded}, task.__name__
    assert file_fingerprints(publications.warehouse) == before
    assert _written(publications.warehouse) == set()


def test_when_both_publications_triggered_the_run_it_works_on_the_newer(
    publications: Publications,
) -> None:
    context = _triggered(publications.older, publications.current)
    run = downstream_run(context)
    assert (run.publication, run.superseded) == (publications.current, None)


def test_a_current_publication_gets_its_exports_report_and_extract(
    publications: Publications,
) -> None:
    context = _triggered(publications.current)
    day = publications.la.days[9].isoformat()
    warehouse = publications.warehouse

    exported = exports(context)
    manifest = json.loads((warehouse / "exports" / day / "manifest.json").read_text())
    assert exported["folder"] == str(warehouse / "exports" / day)
    assert manifest["publication"]["version"] == publications.current.version

    reported = report(context)
    assert reported["report"] == str(warehouse / "reports" / f"{day}.md")
    assert f"register day {day}" in Path(reported["report"]).read_text()
    pages = {Path(p).name for p in reported["html_reports"]}
    assert pages == {"la_881.html"} | {f"school_{s.urn}.html" for s in publications.la.schools}
    packs = {Path(p).relative_to(warehouse) for p in reported["targeting_packs"]}
    assert packs == {Path("reports", "targeting", f"{s.urn}.html") for s in publications.la.schools}

    served = serving(context)
    extract = warehouse / "extracts" / f"dfe_daily_attendance_{day}.csv"
    assert served == {"dfe_extract": str(extract), "postgres": "skipped: no DSN"}
    header, *rows = extract.read_text().splitlines()
    assert {"attendance_date", "urn"} <= set(header.split(",")) and rows
    assert _written(warehouse) == {"exports", "reports", "extracts"}
