"""The pipeline tests' shared warehouse: published once (tests/conftest.py's
`published_warehouse`), copied for each test that writes."""

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def warehouse(published_warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(published_warehouse, copy, symlinks=True)
    return copy
