"""The tree a newcomer walks: one package per stage, each importable from this repository
only, no module too long to hold in mind, no folder too crowded to scan.

The direction of imports between the packages is checked by `make lint` (lint-imports, the
contracts in pyproject.toml)."""

import importlib
import importlib.metadata
from pathlib import Path

import pytest

from tests.support.layout import PACKAGES
from warehouse.project import PROJECT_ROOT

MAX_MODULE_LINES = 450
MAX_MODULES_SIDE_BY_SIDE = 12


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_imports_from_this_repository(name: str) -> None:
    package = importlib.import_module(name)
    assert Path(package.__file__).resolve().parent == PROJECT_ROOT / name


def test_no_installed_distribution_but_ours_ships_a_top_level_name_of_ours() -> None:
    clashes = {}
    for distribution in importlib.metadata.distributions():
        if distribution.metadata["Name"] == "attendance-pipeline":
            continue
        tops = {
            Path(str(f)).parts[0].removesuffix(".py")
            for f in distribution.files or ()
            if not str(f).startswith("..")
        }
        clashes.update({name: distribution.metadata["Name"] for name in tops & set(PACKAGES)})
    assert clashes == {}


def _modules(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_450_lines(package: str) -> None:
    long = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in _modules(package)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_folder_holds_more_than_12_modules_side_by_side(package: str) -> None:
    folders = {path.parent for path in _modules(package)}
    crowded = {
        str(folder.relative_to(PROJECT_ROOT)): count
        for folder in folders
        if (count := len([p for p in folder.glob("*.py") if p.name != "__init__.py"]))
        > MAX_MODULES_SIDE_BY_SIDE
    }
    assert crowded == {}
