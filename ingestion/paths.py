"""Where the project's own files live, so that code run from Airflow, dbt or the CLI agrees."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SUITES_DIR = PROJECT_ROOT / "expectations" / "suites"
DAGS_DIR = PROJECT_ROOT / "dags"
