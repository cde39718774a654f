"""Shared helpers of the dbt tests: a generated authority, its extracts, builds and marts."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from synthetic import GeneratorConfig, SyntheticLA
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import characteristics as truth_characteristics
from tests.support.truth import cme as truth_cme
from tests.support.truth import dfe as truth_dfe
from tests.support.truth import feed as truth_feed
from tests.support.truth import registers as truth
from tests.support.truth import schools as truth_schools
from tests.support.truth import weekly as truth_weekly
from warehouse.project import DBT_PROJECT_DIR

# Big enough for every flag of pupils_for_support to occur (checked by the truth test), small
# enough to build in seconds: 5 schools, about 200 pupils, 28 school days, 10-day windows, a
# closure day, SEN changes, mid-year admissions and pupils who move school.
CONFIG = GeneratorConfig(
    schools=5, pupils=200, school_days=28, window_days=10, closure_day=12, seed=2035
)

# Every mart of the published interface (docs/interface.md), and the breakdown by need.
MARTS = (
    "pupil_attendance",
    "absence_episodes",
    "pupils_for_support",
    "attendance_by_sen",
    "attendance_by_sen_need",
    "attendance_by_characteristic",
    "school_daily_attendance",
    "school_daily_reasons",
    "schools",
    "dfe_daily_attendance",
    "school_feed_status",
    "weekly_attendance",
    "children_missing_education",
)
# Published beside the marts, but a record of the pipeline's own work (when each file was
# ingested), so compared with the files fed in (tests/serving/test_data_quality.py), not here.
OPERATIONAL = ("ingest_audit", "quarantine")
# The key of each relation compared with the truth, and the truth's function for it.
KEYS = {
    "pupil_attendance": ("urn", "upn", "academic_year"),
    "absence_episodes": ("urn", "upn", "start_date", "start_session"),
    "pupils_for_support": ("urn", "upn", "academic_year"),
    "attendance_by_sen": ("level", "area", "academic_year", "sen_provision"),
    "attendance_by_sen_need": (
        "level",
        "area",
        "academic_year",
        "sen_provision",
        "sen_primary_need",
    ),
    "attendance_by_characteristic": (
        "level",
        "area",
        "academic_year",
        "characteristic",
        "group_value",
    ),
    "school_daily_attendance": ("urn", "session_date"),
    "school_daily_reasons": ("urn", "session_date", "register_code", "category"),
    "schools": ("urn",),
    "dfe_daily_attendance": ("urn", "attendance_date"),
    "fct_sessions": ("urn", "upn", "session_date", "session"),
    "school_feed_status": ("urn",),
    "weekly_attendance": ("level", "area", "academic_year", "week_start"),
    "children_missing_education": ("urn", "upn"),
}
TRUTH = {
    "pupil_attendance": truth.expected_pupil_attendance,
    "absence_episodes": truth.expected_absence_episodes,
    "pupils_for_support": truth_action_list.expected_pupils_for_support,
    "attendance_by_sen": truth.expected_attendance_by_sen,
    "attendance_by_sen_need": truth.expected_attendance_by_sen_need,
    "attendance_by_characteristic": (truth_characteristics.expected_attendance_by_characteristic),
    "school_daily_attendance": truth.expected_school_daily_attendance,
    "school_daily_reasons": truth.expected_school_daily_reasons,
    "schools": truth_schools.expected_schools,
    "dfe_daily_attendance": truth_dfe.expected_dfe_daily_attendance,
    "fct_sessions": truth.expected_sessions,
    "school_feed_status": truth_feed.expected_school_feed_status,
    "weekly_attendance": truth_weekly.expected_weekly_attendance,
    "children_missing_education": truth_cme.expected_children_missing_education,
}
# Columns that record how a row was built rather than what it says.
BUILD_COLUMNS = {"fct_sessions": ("loaded_through", "events_loaded")}


def run_dbt(database: Path, work_dir: Path, *args: str) -> None:
    """dbt with its artefacts outside the repository, as pipeline/marts.py runs it."""
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work_dir / "dbt_target"),
        "--log-path",
        str(work_dir / "dbt_logs"),
    ]
    env = {**os.environ, "ATTENDANCE_WAREHOUSE_DB": str(database), "DO_NOT_TRACK": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def rows(database: Path, relation: str) -> list[dict]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(f"select * from {relation}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def snapshot(database: Path, relations: tuple[str, ...] = MARTS) -> dict[str, list[tuple]]:
    """Each relation's rows, in a stable order, without the columns that record the build."""
    with duckdb.connect(str(database), read_only=True) as con:
        taken = {}
        for relation in relations:
            skipped = BUILD_COLUMNS.get(relation)
            columns = f"* exclude ({', '.join(skipped)})" if skipped else "*"
            taken[relation] = con.execute(
                f"select {columns} from {relation} order by all"
            ).fetchall()
        return taken


def max_as_of(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        (as_of,) = con.execute("select max(as_of) from pupil_attendance").fetchone()
    return as_of.isoformat()


def assert_matches(la: SyntheticLA, last_day_index: int, relation: str, got: list[dict]) -> None:
    """Every row and figure of `got` equals the truth; rates to a tiny tolerance."""
    key = KEYS[relation]
    expected = TRUTH[relation](la, last_day_index)
    by_key = {tuple(row[c] for c in key): row for row in got}
    assert len(by_key) == len(got), f"{relation}: duplicate keys"
    assert set(by_key) == set(expected), relation
    for k, want in expected.items():
        for column, value in want.items():
            have = by_key[k][column]
            if isinstance(value, float):
                assert have == pytest.approx(value, abs=1e-12), (relation, k, column)
            else:
                assert have == value, (relation, k, column, have, value)
    if relation in MARTS:
        assert {row["as_of"] for row in got} == {truth.expected_as_of(la, last_day_index)}
