"""The quality page the daily audit writes renders in headless Chromium with the network off,
and shows each check as what it meant for publication: a warning as a warning on a run that
published, a blocking failure as "Failed"."""

from pathlib import Path

import duckdb
import pytest

from expectations.checkpoint import AuditFailed
from pipeline import daily
from pipeline.run_info import RunInfo
from publication.record import read_record
from tests.support.chromium import OfflineLoad, load_offline
from tests.support.published import file_fingerprints
from warehouse.build_stamp import write_build_stamp

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
# One pupil with SEN support and no primary need: a warning-severity check fails on one row.
NO_PRIMARY_NEED = (
    "update main.pupil_attendance set sen_primary_need = null "
    "where upn = (select min(upn) from main.pupil_attendance where sen_provision = 'K')"
)
# A rate above one: a critical check fails on one row.
RATE_ABOVE_ONE = (
    "update main.pupil_attendance set attendance_rate = 1.5 "
    "where upn = (select max(upn) from main.pupil_attendance)"
)
# What the page's script-free DOM says, read in the browser.
SCRIPTS = {
    "attention": "Array.from(document.querySelectorAll('table')).filter(t => t.caption"
    " && t.caption.textContent.startsWith('Checks that found')).flatMap(t =>"
    " Array.from(t.querySelectorAll('tbody tr')).map(r => [r.cells[0].textContent,"
    " r.cells[1].textContent, r.cells[2].textContent]))",
    "statuses": "Array.from(document.querySelectorAll('td.status')).map(c => c.textContent)",
    "verdict": "document.querySelector('.verdict').textContent",
    "kept": "document.querySelectorAll('a[href^=\"runs/\"]').length - 1",
    # The inline style applied: a warning cell is not drawn on a transparent background.
    "warning_background": "(() => { const c = document.querySelector('td.status.warning');"
    " return c ? getComputedStyle(c).backgroundColor : null; })()",
}


def _run(warehouse: Path, run_id: str, monkeypatch: pytest.MonkeyPatch) -> RunInfo:
    """Run `run_id`, whose build the tampering stands for, auditing whole tables."""
    monkeypatch.setenv("ATTENDANCE_AUDIT", "full")
    write_build_stamp(warehouse / "work", run_id, None)
    return RunInfo.for_day(None, warehouse=str(warehouse), run_id=run_id)


def _tamper(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        for statement in statements:
            con.execute(statement)


def _recorded(warehouse: Path, run_id: str) -> dict[str, int]:
    """How the record counts the run's checks, by what the page should call them."""
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            """
            select case when success then 'Passed'
                        when severity = 'critical' then 'Failed'
                        when severity = 'warning' then 'Warning' else 'Info' end, count(*)
            from ops.quality_runs where run_id = ? group by 1
            """,
            [run_id],
        ).fetchall()
    return dict(rows)


def _shown(load: OfflineLoad) -> dict[str, int]:
    statuses: list[str] = load.values["statuses"]
    return {status: statuses.count(status) for status in set(statuses)}


def _assert_rendered_offline(load: OfflineLoad) -> None:
    assert load.requests and load.off_file == [], load.requests
    assert load.failed == [] and load.exceptions == [] and load.console == []


def test_a_warning_shows_as_a_warning_on_a_run_that_published(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(warehouse, NO_PRIMARY_NEED)
    run = _run(warehouse, "warned", monkeypatch)
    result = daily.audit(run)
    daily.publish(run, None)
    assert read_record(warehouse / "published").run.run_id == "warned"  # it published

    load = load_offline(
        Path(result["data_docs"]), scripts=SCRIPTS, screenshot=ARTEFACTS / "quality_warning.png"
    )
    _assert_rendered_offline(load)
    assert result["warnings"] == 1
    assert load.values["attention"] == [
        ["Warning", "pupil_attendance", "unexpected_rows_expectation"]
    ]
    assert load.values["verdict"] == "Passed with 1 warning: nothing blocks publication."
    # Every check of the latest audit is on the index, named as the record says (the index
    # shows the latest audit's checks twice for a problem: in "Needs attention" and its table).
    recorded = _recorded(warehouse, "warned")
    assert "Failed" not in recorded
    assert _shown(load) == {**recorded, "Warning": 2 * recorded["Warning"]}
    assert load.values["warning_background"] not in (None, "rgba(0, 0, 0, 0)")
    assert load.values["kept"] == 2  # the fixture's audit and this one
    assert "Publication withheld" not in load.text and "Failed" not in load.values["statuses"]


def test_a_blocking_failure_shows_as_failed_and_a_warning_still_as_a_warning(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = file_fingerprints(warehouse / "published")
    _tamper(warehouse, NO_PRIMARY_NEED, RATE_ABOVE_ONE)
    with pytest.raises(AuditFailed) as failure:
        daily.audit(_run(warehouse, "withheld", monkeypatch))
    assert file_fingerprints(warehouse / "published") == before
    index = warehouse / "quality" / "data_docs" / "index.html"
    assert str(index) in str(failure.value)

    load = load_offline(index, scripts=SCRIPTS, screenshot=ARTEFACTS / "quality_failed.png")
    _assert_rendered_offline(load)
    recorded = _recorded(warehouse, "withheld")
    failed, warned = recorded["Failed"], recorded["Warning"]
    assert failed >= 1 and warned == 1
    # Blocking failures first, then the warning, still called a warning.
    assert [status for status, _, _ in load.values["attention"]] == (
        ["Failed"] * failed + ["Warning"] * warned
    )
    checks = "check" if failed == 1 else "checks"
    assert load.values["verdict"] == f"Publication withheld: {failed} blocking {checks} failed."
    assert _shown(load) == {**recorded, "Failed": 2 * failed, "Warning": 2 * warned}


def test_the_offline_check_catches_a_page_that_needs_the_network(tmp_path: Path) -> None:
    """What GX's Data Docs did: scripts and styles from public CDNs. Offline, they are
    requested, fail, and the page's own script breaks."""
    page = tmp_path / "cdn.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title>x</title>'
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/'
        'bootstrap.min.css"><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        "</head><body><p>results</p><script>$('p').hide()</script></body></html>"
    )
    load = load_offline(page)
    assert len(load.off_file) == 2
    assert {error for _, error in load.failed} == {"net::ERR_INTERNET_DISCONNECTED"}
    assert load.exceptions and "$ is not defined" in load.exceptions[0]
