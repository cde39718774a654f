"""Where a run reads and writes: the caller's folders, else the environment, else var/."""

from pathlib import Path

import pytest

from warehouse import locations
from warehouse.locations import LANDING_ENV, WAREHOUSE_ENV, resolve_locations
from warehouse.project import PROJECT_ROOT


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """ATTENDANCE_LANDING and ATTENDANCE_WAREHOUSE set to folders of their own."""
    landing, warehouse = tmp_path / "env-landing", tmp_path / "env-warehouse"
    monkeypatch.setenv(LANDING_ENV, str(landing))
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    return landing, warehouse


def test_folders_given_by_the_caller_win_over_the_environment(
    environment: tuple[Path, Path], tmp_path: Path
) -> None:
    chosen = resolve_locations(tmp_path / "mine-landing", str(tmp_path / "mine-warehouse"))
    assert chosen.landing == tmp_path / "mine-landing"
    assert chosen.warehouse == tmp_path / "mine-warehouse"


def test_each_folder_not_given_comes_from_its_own_variable(
    environment: tuple[Path, Path], tmp_path: Path
) -> None:
    landing, warehouse = environment
    assert resolve_locations() == locations.Locations(landing, warehouse)
    # One folder given, the other from the environment.
    assert resolve_locations(None, tmp_path / "mine") == locations.Locations(
        landing, tmp_path / "mine"
    )
    assert resolve_locations(tmp_path / "mine", None) == locations.Locations(
        tmp_path / "mine", warehouse
    )


def test_without_folders_or_variables_a_checkout_uses_its_var_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(LANDING_ENV, raising=False)
    monkeypatch.setenv(WAREHOUSE_ENV, "")  # set but empty counts as not set
    chosen = resolve_locations()
    assert chosen.landing == PROJECT_ROOT / "var" / "landing"
    assert chosen.warehouse == PROJECT_ROOT / "var" / "warehouse"


def test_an_installed_package_uses_var_under_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed (no pyproject.toml beside the packages), var/ is the current folder's."""
    monkeypatch.delenv(LANDING_ENV, raising=False)
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    monkeypatch.setattr(locations, "PROJECT_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    chosen = resolve_locations()
    assert chosen.landing == tmp_path.resolve() / "var" / "landing"
    assert chosen.warehouse == tmp_path.resolve() / "var" / "warehouse"


def test_relative_and_home_folders_become_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    chosen = resolve_locations("relative/landing", "~/warehouse")
    assert chosen.landing == tmp_path.resolve() / "relative" / "landing"
    assert chosen.warehouse == tmp_path / "home" / "warehouse"


def test_the_warehouse_files_sit_in_the_warehouse_folder(tmp_path: Path) -> None:
    chosen = resolve_locations(tmp_path / "landing", tmp_path / "warehouse")
    assert chosen.warehouse_db == tmp_path / "warehouse" / "warehouse.duckdb"
    assert chosen.published == tmp_path / "warehouse" / "published"
    assert chosen.work == tmp_path / "warehouse" / "work"
