"""The quality pages' folder keeps the last N audits and nothing else (quality_docs.py):
real GX audits of a generated LA's built warehouse (a copy of the session's), recorded as the
daily audit records them."""

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from expectations.checkpoint import audit
from expectations.quality_docs import (
    DEFAULT_RUNS_KEPT,
    RUNS_KEPT_ENV,
    BadRunsKept,
    runs_kept,
)
from expectations.quality_record import record_quality_run

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# A small suite (14 expectations): each audit takes about half a second once GX is loaded.
TABLE = "school_daily_attendance"
AUDITS = 22
KEPT = 5


@pytest.fixture(scope="module")
def warehouse_db(published_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's once-published warehouse: the audits here record into it."""
    copy = tmp_path_factory.mktemp("quality-docs") / "warehouse.duckdb"
    shutil.copy(published_warehouse / "warehouse.duckdb", copy)
    return copy


def _gx_data_docs_leftovers(docs: Path) -> list[Path]:
    """The layout GX's Data Docs left in the folder, with an empty folder per stored result,
    as an existing warehouse has it."""
    folders = [
        docs / "validations" / TABLE / "__none__" / f"2025091{day}T160000.000000Z"
        for day in range(5)
    ]
    for folder in folders:
        folder.mkdir(parents=True)
    (docs / "expectations").mkdir()
    (docs / "expectations" / f"{TABLE}.html").write_text("<html></html>")
    (docs / "static" / "styles").mkdir(parents=True)
    (docs / "static" / "styles" / "data_docs_custom_styles.css").write_text("")
    (docs / ".index.html.4242.tmp").write_text("a killed writer's leftover")
    return folders


def test_twenty_two_audits_leave_the_last_five_pages_and_no_empty_folder(
    warehouse_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNS_KEPT_ENV, str(KEPT))
    docs = tmp_path / "quality" / "data_docs"
    assert _gx_data_docs_leftovers(docs)
    run_ids = [f"run-{number:02}" for number in range(AUDITS)]
    for run_id in run_ids:
        report = audit(warehouse_db, [TABLE])
        assert report.success and len(report.outcomes) > 10
        record_quality_run(warehouse_db, run_id, report, docs_dir=docs)

    with duckdb.connect(str(warehouse_db), read_only=True) as con:
        recorded = con.execute(
            "select count(distinct (run_id, checked_at)) from ops.quality_runs "
            "where run_id like 'run-%'"
        ).fetchone()[0]
    assert recorded == AUDITS  # every result stays in the record
    kept = run_ids[-KEPT:]

    pages = sorted((docs / "runs").iterdir())
    assert len(pages) == KEPT
    shown = {
        re.search(r"Quality checks of run ([\w-]+)</h1>", p.read_text()).group(1) for p in pages
    }
    assert shown == set(kept)

    index = (docs / "index.html").read_text()
    listed = re.findall(r'<td><a href="runs/([^"]+)">[^<]*</a></td><td>([\w-]+)</td>', index)
    assert [run for _, run in listed] == kept[::-1]  # newest first
    assert sorted(name for name, _ in listed) == [p.name for p in pages]
    assert f"The last {KEPT} audits are kept" in index

    everything = list(docs.rglob("*"))
    assert [p for p in everything if p.is_dir() and not any(p.iterdir())] == []
    assert sorted(str(p.relative_to(docs)) for p in everything if p.is_file()) == sorted(
        ["index.html", *(f"runs/{p.name}" for p in pages)]
    )


def test_a_page_is_written_once_and_kept_while_its_audit_is_among_the_last(
    warehouse_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNS_KEPT_ENV, "2")
    docs = tmp_path / "docs"
    report = audit(warehouse_db, [TABLE])
    record_quality_run(warehouse_db, "older", report, docs_dir=docs)
    [first] = [p for p in (docs / "runs").iterdir() if "run older</h1>" in p.read_text()]
    written = first.stat().st_mtime_ns
    record_quality_run(warehouse_db, "newer", report, docs_dir=docs)
    assert first.is_file() and first.stat().st_mtime_ns == written
    record_quality_run(warehouse_db, "newest", report, docs_dir=docs)
    assert not first.exists()
    assert len(list((docs / "runs").iterdir())) == 2


def test_the_number_kept_is_a_setting_with_a_default() -> None:
    assert runs_kept({}) == DEFAULT_RUNS_KEPT == 30
    assert runs_kept({RUNS_KEPT_ENV: " 12 "}) == 12


@pytest.mark.parametrize("value", ["0", "-3", "ten", "2.5"])
def test_a_number_kept_that_is_not_a_positive_whole_number_is_refused(value: str) -> None:
    with pytest.raises(BadRunsKept, match=rf"{RUNS_KEPT_ENV}='{re.escape(value)}'"):
        runs_kept({RUNS_KEPT_ENV: value})
