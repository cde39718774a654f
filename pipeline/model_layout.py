"""Which layout of the dbt models a warehouse was built with, and the upgrade between two.

Renaming an incremental model (or a column of one) leaves the old table behind under its
old name, and dbt's `on_schema_change='fail'` refuses a renamed column, so such a change
needs a full refresh of every existing warehouse. The dbt project says which layout it is
(the var `model_layout` in dbt_project.yml, bumped with any such change); each build
records it in the warehouse (`ops.model_layout`). When the two differ, the build is a full
refresh, and the relations of the old layout that the project no longer builds are dropped
afterwards (docs/models.md, "Upgrading an existing warehouse").
"""

import json
from pathlib import Path

from warehouse.connect import connect
from warehouse.project import dbt_vars

# The schema dbt builds into (profiles.yml's default); the event store and ops are apart.
MODELS_SCHEMA = "main"
# Relations dbt makes, by resource type.
BUILT_RESOURCES = ("model", "seed", "snapshot")


def project_layout() -> int:
    return int(dbt_vars()["model_layout"])


def built_layout(database: Path) -> int | None:
    """The layout recorded by the warehouse's last build; None for a new warehouse or one
    built before layouts were recorded."""
    if not database.is_file():
        return None
    with connect(database, read_only=True) as con:
        found = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'ops' and table_name = 'model_layout'"
        ).fetchone()[0]
        if not found:
            return None
        row = con.execute("select layout from ops.model_layout").fetchone()
    return None if row is None else int(row[0])


def record_layout(database: Path, layout: int) -> None:
    with connect(database) as con:
        con.execute("create schema if not exists ops")
        con.execute("create or replace table ops.model_layout as select ? as layout", [layout])


def drop_stale_relations(database: Path, manifest: Path) -> list[str]:
    """Drop the tables and views of the models' schema that the project (dbt's manifest of
    the build just done) no longer builds; returns their names."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    built = {
        (node.get("alias") or node["name"]).lower()
        for node in nodes
        if node["resource_type"] in BUILT_RESOURCES and node["schema"] == MODELS_SCHEMA
    }
    with connect(database) as con:
        present = con.execute(
            "select table_name, 'table' from duckdb_tables() where schema_name = ? "
            "union all "
            "select view_name, 'view' from duckdb_views() where schema_name = ? and not internal",
            [MODELS_SCHEMA, MODELS_SCHEMA],
        ).fetchall()
        stale = sorted((name, kind) for name, kind in present if name.lower() not in built)
        for name, kind in stale:
            con.execute(f'drop {kind} if exists {MODELS_SCHEMA}."{name}"')
    return [name for name, _ in stale]
