"""The pipeline tests' shared warehouse: published once, copied for each test that writes."""

import shutil
from pathlib import Path

import pytest

from synthetic import SyntheticLA
from tests.support.published import published_la


@pytest.fixture(scope="session")
def published_warehouse(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse that has published once, built and audited by the real steps on generated
    data. Shared: tests write only to a copy (`warehouse`)."""
    root = tmp_path_factory.mktemp("published-once")
    return published_la(tiny_la, root, range(4), run_id="first", audit=True).locations.warehouse


@pytest.fixture
def warehouse(published_warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(published_warehouse, copy, symlinks=True)
    return copy
