"""ATTENDANCE_UMASK: which values are taken and which refused, and the project's own helpers
giving its modes even where a caller forgot to set the process umask."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.alerts import ALERTS_FILE, record_alert
from warehouse.build_stamp import STAMP_FILE, write_build_stamp
from warehouse.connect import connect
from warehouse.files import staged_path, write_text_atomically
from warehouse.lock import LOCK_FILE, warehouse_lock
from warehouse.permissions import (
    DEFAULT_UMASK,
    UMASK_ENV,
    BadUmask,
    configured_umask,
    make_folders,
    pipeline_umask,
    restrict,
    with_pipeline_umask,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def careless_umask() -> Iterator[None]:
    """A process that set no umask of its own, or an open one: 000."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def default_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UMASK_ENV, raising=False)


@pytest.mark.parametrize(
    "value, umask",
    [
        (None, 0o027),
        ("", 0o027),
        ("027", 0o027),
        ("77", 0o077),
        (" 0077 ", 0o077),
        ("0o037", 0o037),
        ("7", 0o007),
    ],
)
def test_the_setting_takes_octal_values_that_keep_others_out(value: str | None, umask: int) -> None:
    environ = {} if value is None else {UMASK_ENV: value}
    assert configured_umask(environ) == umask
    assert DEFAULT_UMASK == 0o027


@pytest.mark.parametrize(
    "value, why",
    [
        ("022", "would let every local user open"),
        ("0", "would let every local user open"),
        ("026", "would let every local user open"),
        ("0o073", "would let every local user open"),
        ("277", "take the pipeline's own rights"),
        ("707", "take the pipeline's own rights"),
        ("abc", "is not a umask"),
        ("028", "is not a umask"),
        ("1027", "is not a umask"),
        ("0x1f", "is not a umask"),
        ("-027", "is not a umask"),
    ],
)
def test_a_value_that_opens_files_to_others_or_is_not_octal_is_refused(
    value: str, why: str
) -> None:
    with pytest.raises(BadUmask, match=why) as refused:
        configured_umask({UMASK_ENV: value})
    assert f"{UMASK_ENV}={value!r}" in str(refused.value)
    assert "027" in str(refused.value)


def test_a_file_written_in_one_step_gets_the_settings_mode_whatever_the_process_umask(
    tmp_path: Path, careless_umask: None, default_setting: None
) -> None:
    target = tmp_path / "new" / "deeper" / "report.md"
    write_text_atomically(target, "pupil data\n")
    assert mode(target) == 0o640
    assert mode(target.parent) == mode(target.parent.parent) == 0o750
    # A staged file a killed writer left with other bits is written over with the right ones.
    staged = staged_path(target)
    staged.write_text("left over")
    staged.chmod(0o666)
    write_text_atomically(target, "again\n")
    assert mode(target) == 0o640


def test_the_setting_makes_the_helpers_files_owner_only(
    tmp_path: Path, careless_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UMASK_ENV, "077")
    write_build_stamp(tmp_path / "work", "run", None)
    record_alert(tmp_path, "dag", "run", "task", "why")
    with warehouse_lock(tmp_path / "other"):
        pass
    assert mode(tmp_path / "work") == mode(tmp_path / "other") == 0o700
    for path in (
        tmp_path / "work" / STAMP_FILE,
        tmp_path / ALERTS_FILE,
        tmp_path / "other" / LOCK_FILE,
    ):
        assert mode(path) == 0o600, path


def test_a_refused_setting_leaves_the_helpers_at_their_strictest(
    tmp_path: Path, careless_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step fails at its start; the alert saying why is still written, owner-only."""
    monkeypatch.setenv(UMASK_ENV, "022")
    record_alert(tmp_path / "warehouse", "dag", "run", "task", "refused")
    assert mode(tmp_path / "warehouse") == 0o700
    assert mode(tmp_path / "warehouse" / ALERTS_FILE) == 0o600


def test_an_older_warehouse_folder_is_closed_to_others_when_a_step_takes_it(
    tmp_path: Path, default_setting: None
) -> None:
    """Its files keep their bits, but others can no longer reach them; an alerts file and a
    DuckDB file written again lose their bits for others."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir(mode=0o777)
    warehouse.chmod(0o775)
    old = warehouse / "old-report.md"
    old.write_text("old")
    alerts, database = warehouse / ALERTS_FILE, warehouse / "warehouse.duckdb"
    alerts.write_text("")
    connect(database).close()
    for path in (old, alerts, database):
        path.chmod(0o664)
    with warehouse_lock(warehouse):
        record_alert(warehouse, "dag", "run", "task", "why")
        connect(database).close()
    assert mode(warehouse) == 0o750
    assert (mode(old), mode(alerts), mode(database)) == (0o664, 0o640, 0o640)


def test_the_task_umask_is_the_settings_while_it_runs_and_the_callers_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UMASK_ENV, "077")
    caller = os.umask(0o022)
    try:

        @with_pipeline_umask
        def task() -> int:
            (tmp_path / "written by a library").write_text("x")
            return os.umask(0o077)

        assert task() == 0o077
        assert mode(tmp_path / "written by a library") == 0o600
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(caller)


def test_a_task_with_a_refused_setting_fails_before_it_writes_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UMASK_ENV, "002")
    with pytest.raises(BadUmask, match=UMASK_ENV), pipeline_umask():
        make_folders(tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_a_folder_with_the_set_group_id_bit_passes_its_group_on(
    tmp_path: Path, default_setting: None
) -> None:
    """How a deployment gives the hub's group what the pipeline writes (docs/security.md)."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    warehouse.chmod(0o2750)
    staged = make_folders(warehouse / "exports" / ".day.tmp")
    restrict(staged)
    assert mode(staged) == 0o2750
    assert staged.stat().st_gid == warehouse.stat().st_gid
