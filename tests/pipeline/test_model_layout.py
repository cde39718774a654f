"""A warehouse built with an older layout of the models is rebuilt whole on the next build:
the build does not fail on the renamed columns, the old relations go, the marts are the
same as a fresh build's, and the new layout is recorded."""

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.marts import build_marts
from pipeline.model_layout import built_layout, project_layout
from tests.support.marts import MARTS, snapshot


@pytest.fixture(scope="module")
def built(published_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's warehouse of the tiny LA, built (and published) with the
    project's layout."""
    copy = tmp_path_factory.mktemp("layout") / "warehouse.duckdb"
    shutil.copy(published_warehouse / "warehouse.duckdb", copy)
    return copy


def test_a_new_warehouse_records_the_project_layout(built: Path) -> None:
    assert built_layout(built) == project_layout() >= 2


def test_an_old_layout_is_rebuilt_whole_and_its_relations_dropped(
    built: Path, tmp_path: Path
) -> None:
    before = snapshot(built, MARTS)
    old = tmp_path / "warehouse.duckdb"
    old.write_bytes(built.read_bytes())
    with duckdb.connect(str(old)) as con:
        # As layout 1 left it: the fact under its old name, the old stamp column, no record.
        con.execute("alter table main.fct_absence_episodes rename to int_absence_episodes")
        con.execute("alter table main.fct_sessions rename column built_cutoff to built_as_of")
        con.execute("drop table ops.model_layout")
    assert built_layout(old) is None

    build_marts(old, tmp_path / "work", progress=lambda _: None)

    with duckdb.connect(str(old), read_only=True) as con:
        tables = {
            name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()
        }
    assert "int_absence_episodes" not in tables and "fct_absence_episodes" in tables
    assert built_layout(old) == project_layout()
    assert snapshot(old, MARTS) == before
