"""Where the project's own files are, so that code run from Airflow, dbt or the CLI agrees.

The dbt project and the DAG files sit beside the Python packages, in a checkout and in an
installed wheel alike (the wheel ships `dbt_project/` as data next to the packages).
"""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DAGS_DIR = PROJECT_ROOT / "dags"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


@cache
def dbt_vars() -> dict[str, Any]:
    """The `vars:` of dbt_project.yml: the one place a rule's number is written (for
    example `suppress_counts_below`), read by the Python code that applies it too."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as project:
        return dict(yaml.safe_load(project).get("vars") or {})


def suppress_counts_below() -> int:
    """Counts from 1 up to this (exclusive) are withheld from what is shared widely."""
    return int(dbt_vars()["suppress_counts_below"])
