"""What the pipeline writes (warehouse, publication, exports, reports, alerts, pulled extracts)
is open to its owner and group only: files 0640 and folders 0750 by default, and what
ATTENDANCE_UMASK says otherwise (docs/security.md). Checked on real runs of the tasks' own
functions, on the shared published LA and on copies of it."""

import os
import shutil
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from ingestion.http_pull import TOKEN_ENV, URL_ENV
from pipeline import daily, downstream
from pipeline.run_info import RunInfo
from serving.postgres import DSN_ENV
from synthetic import SyntheticLA
from synthetic.mis_feed import FeedServer
from tests.support.cli import run_cli
from tests.support.extracts import deliver
from warehouse.build_stamp import write_build_stamp
from warehouse.locations import LANDING_ENV, WAREHOUSE_ENV
from warehouse.permissions import UMASK_ENV, configured_umask


def modes(root: Path) -> dict[str, int]:
    """The permission bits of `root` and of every file and folder below it (symbolic links,
    whose own bits mean nothing, are not followed)."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            path = Path(folder) / name
            status = path.lstat()
            if not stat.S_ISLNK(status.st_mode):
                found[str(path.relative_to(root))] = stat.S_IMODE(status.st_mode)
    return found


def open_to_others(found: dict[str, int]) -> dict[str, str]:
    return {path: oct(mode) for path, mode in found.items() if mode & 0o007}


def not_as_expected(root: Path, found: dict[str, int], umask: int) -> dict[str, str]:
    """Paths whose bits are not those `umask` gives: 0666 or 0777 without its bits."""
    wrong = {}
    for path, mode in found.items():
        base = 0o777 if (root / path).is_dir() else 0o666
        if mode != base & ~umask:
            wrong[path] = oct(mode)
    return wrong


def test_a_run_leaves_nothing_in_the_warehouse_that_others_can_open(published: Path) -> None:
    """The shared LA was ingested, built by dbt and published by the tasks' own functions,
    with the setting of the tests' environment (unset: files 0640, folders 0750), DuckDB's,
    dbt's and Parquet's files too."""
    warehouse = published.parent
    found = modes(warehouse)
    assert {"warehouse.duckdb", "published/published.duckdb", "published/publication.json"} <= set(
        found
    )
    assert any(path.endswith(".parquet") for path in found)
    assert open_to_others(found) == {}
    assert not_as_expected(warehouse, found, configured_umask()) == {}


@pytest.fixture
def tight(monkeypatch: pytest.MonkeyPatch) -> int:
    """ATTENDANCE_UMASK=077: owner only; no serving database, no folders from the environment."""
    for name in (DSN_ENV, WAREHOUSE_ENV, LANDING_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(UMASK_ENV, "077")
    return 0o077


def test_audit_publish_and_the_downstream_runs_follow_the_setting(
    published: Path, serving_la: SyntheticLA, tmp_path: Path, tight: int
) -> None:
    """On a copy of the shared warehouse, with ATTENDANCE_UMASK=077: the audit's results and
    Data Docs, a new publication, the exports, the reports, the DfE extract and the alerts
    are owner-only. What the copy already held keeps its bits (0640), and nothing is open to
    others."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(published.parent, warehouse, symlinks=True)
    before = set(modes(warehouse))
    day = serving_la.days[-1]
    run = RunInfo.for_day(day, landing=str(tmp_path / "landing"), warehouse=str(warehouse))
    write_build_stamp(warehouse / "work", run.run_id, None)
    daily.audit(run)
    daily.publish(run, None)
    context = {"params": {"warehouse": str(warehouse), "register_day": day.isoformat()}}
    for task in (downstream.exports, downstream.report, downstream.serving):
        task(context)
    # A register day whose extracts never arrived: every school is alerted about.
    later = RunInfo.for_day(day + timedelta(days=7), warehouse=str(warehouse))
    assert daily.check_extracts(later)["missing_schools"]

    found = modes(warehouse)
    new = {path: mode for path, mode in found.items() if path not in before}
    for written in (
        "alerts.jsonl",
        "quality/data_docs",
        "exports",
        "reports/html",
        "reports/targeting",
        "extracts",
    ):
        assert any(path.startswith(written) for path in new), written
    assert open_to_others(found) == {}
    assert not_as_expected(warehouse, new, tight) == {}


@pytest.mark.parametrize("setting, umask", [(None, 0o027), ("077", 0o077), ("0007", 0o007)])
def test_pulled_extracts_and_the_pull_state_follow_the_setting(
    tiny_la: SyntheticLA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    umask: int,
) -> None:
    served = tmp_path / "feed"
    deliver(tiny_la, served, range(2))
    landing = tmp_path / "landing"
    if setting is None:
        monkeypatch.delenv(UMASK_ENV, raising=False)
    else:
        monkeypatch.setenv(UMASK_ENV, setting)
    with FeedServer(served, "token-0123456789") as feed:
        monkeypatch.setenv(URL_ENV, feed.url)
        monkeypatch.setenv(TOKEN_ENV, "token-0123456789")
        summary = daily.pull(RunInfo.for_day(None, landing=str(landing), warehouse=str(tmp_path)))
    assert summary and summary["files_downloaded"] > 0
    found = modes(landing)
    assert any(path.startswith(".pull-state/") for path in found)
    assert open_to_others(found) == {}
    assert not_as_expected(landing, found, umask) == {}


def test_the_command_refuses_a_setting_that_opens_files_to_others(tmp_path: Path) -> None:
    env = {**os.environ, UMASK_ENV: "022"}
    refused = run_cli(env, "run", "--landing", str(tmp_path), "--warehouse", str(tmp_path / "w"))
    assert refused.returncode == 2
    assert f"{UMASK_ENV}='022' would let every local user open" in refused.stderr
    assert not (tmp_path / "w").exists()
