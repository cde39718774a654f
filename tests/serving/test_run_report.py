"""The run report of a register day's publication: its summary, the marts published with
their rows, the schools whose extract did not arrive and the alerts of the run that
published (and of no other run)."""

from pathlib import Path

import duckdb
import pytest

from publication.publish import PUBLISHED_MARTS
from publication.record import PublishingRun
from serving.run_report import write_report
from serving.summary import summarise
from synthetic import SyntheticLA
from tests.support.published import publish_again
from warehouse.alerts import FILE_REJECTED, MISSING_EXTRACT, TASK_FAILED, record_alert
from warehouse.locations import Locations, resolve_locations

RUN_ID = "scheduled__2025-09-12T17:00:00+00:00"


@pytest.fixture
def locations(tmp_path: Path) -> Locations:
    """A warehouse folder of the test's own (each test publishes into it)."""
    return resolve_locations(tmp_path / "landing", tmp_path / "warehouse")


def _table(report: str, heading: str) -> list[list[str]]:
    """The rows of the Markdown table under `heading`."""
    section = report.split(f"## {heading}\n\n", 1)[1]
    lines = section.split("\n\n", 1)[0].splitlines()
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def test_the_report_lists_the_missing_schools_and_the_runs_alerts(
    published: Path, serving_la: SyntheticLA, locations: Locations
) -> None:
    day = serving_la.days[-1]
    missing = (serving_la.schools[1].urn, serving_la.schools[3].urn)
    run = PublishingRun(
        dag_id="attendance_daily",
        run_id=RUN_ID,
        register_day=day.isoformat(),
        cutoff=None,
        warehouse=str(locations.warehouse),
        missing_schools=missing,
    )
    record = publish_again(published, locations.warehouse, run)
    warehouse = locations.warehouse
    for urn in missing:
        record_alert(
            warehouse, "attendance_daily", RUN_ID, "check_extracts", f"no extract for {urn}",
            school=urn, kind=MISSING_EXTRACT, register_day=day.isoformat(),
        )  # fmt: skip
    record_alert(
        warehouse, "attendance_daily", RUN_ID, "ingest", "file a|b.csv rejected:\nnot UTF-8",
        school=serving_la.schools[0].urn, kind=FILE_REJECTED,
    )  # fmt: skip
    record_alert(warehouse, "attendance_daily", "another-run", "audit", "failed elsewhere")

    path = write_report(locations, day, record)
    assert path == warehouse / "reports" / f"{day.isoformat()}.md"
    report = path.read_text(encoding="utf-8")
    assert report.startswith(f"# Attendance run report: register day {day.isoformat()}\n")
    assert f"- DAG run: `{RUN_ID}`" in report
    assert f"- Published at: {record.published_at}" in report
    assert f"- Marts as of: {record.as_of}" in report
    assert "- Cut-off of the build: every event known" in report
    assert (
        f"No extract for {day.isoformat()} arrived for 2 school(s): {', '.join(missing)}." in report
    )
    assert _table(report, "Alerts of the run") == [
        [MISSING_EXTRACT, "check_extracts", missing[0], f"no extract for {missing[0]}"],
        [MISSING_EXTRACT, "check_extracts", missing[1], f"no extract for {missing[1]}"],
        [FILE_REJECTED, "ingest", serving_la.schools[0].urn, "file a\\|b.csv rejected: not UTF-8"],
    ]
    assert "another-run" not in report and "failed elsewhere" not in report


def test_the_report_shows_the_summary_and_each_published_marts_rows(
    published: Path, serving_la: SyntheticLA, locations: Locations
) -> None:
    day = serving_la.days[-1]
    run = PublishingRun(run_id=RUN_ID, register_day=day.isoformat(), cutoff="2025-09-12T23:59")
    record = publish_again(published, locations.warehouse, run)
    report = write_report(locations, day, record).read_text(encoding="utf-8")

    summary = summarise(locations.published, record).render()
    assert f"## Summary\n\n```\n{summary}\n```\n" in report
    with duckdb.connect(str(locations.published / "published.duckdb"), read_only=True) as con:
        counted = {
            mart: con.execute(f"select count(*) from {mart}").fetchone()[0]
            for mart in PUBLISHED_MARTS
        }
    assert {mart: int(rows) for mart, rows in _table(report, "Published marts")} == counted
    assert all(counted.values())
    assert "- Cut-off of the build: 2025-09-12T23:59" in report
    assert f"Every known school's extract for {day.isoformat()} arrived." in report
    assert "## Alerts of the run" not in report


def test_a_rerun_of_the_day_replaces_its_report(
    published: Path, serving_la: SyntheticLA, locations: Locations
) -> None:
    day = serving_la.days[-1]
    record = publish_again(published, locations.warehouse, PublishingRun(run_id=RUN_ID))
    first = write_report(locations, day, record)
    record_alert(locations.warehouse, "attendance_daily", RUN_ID, "serving", "late failure")
    again = write_report(locations, day, record)
    assert again == first
    assert [p.name for p in first.parent.iterdir()] == [first.name]
    assert _table(first.read_text(encoding="utf-8"), "Alerts of the run") == [
        [TASK_FAILED, "serving", "", "late failure"]
    ]
