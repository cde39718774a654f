"""Every figure of every published mart against the generator's own record (tests/truth.py)."""

import hashlib
import json
import time
from pathlib import Path

import pytest

from ingestion.ingest import ingest_landing
from pipeline.marts import build_marts
from publication.publish import PUBLISHED_MARTS
from synthetic import SyntheticLA, build_la
from tests.support.extracts import deliver
from tests.support.marts import CONFIG, MARTS, OPERATIONAL, TRUTH, assert_matches, rows
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import cme as truth_cme
from tests.support.truth import registers as truth

LAST_DAY = CONFIG.school_days - 1


@pytest.fixture(scope="module")
def la() -> SyntheticLA:
    return build_la(CONFIG)


@pytest.fixture(scope="module")
def warehouse(la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("truth")
    deliver(la, root / "landing", range(LAST_DAY + 1))
    ingest_landing(root / "landing", root / "warehouse.duckdb", progress=lambda _: None)
    started = time.perf_counter()
    # The daily build leaves dbt's unit tests out; the suite runs them here, on real data.
    build_marts(root / "warehouse.duckdb", root, progress=lambda _: None, unit_tests=True)
    print(f"dbt build: {time.perf_counter() - started:.1f}s")
    results = json.loads((root / "dbt_target" / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 10 and all(r["status"] == "pass" for r in unit_tests)
    return root / "warehouse.duckdb"


@pytest.mark.parametrize("relation", list(TRUTH))
def test_every_figure_matches_the_generators_truth(
    warehouse: Path, la: SyntheticLA, relation: str
) -> None:
    assert_matches(la, LAST_DAY, relation, rows(warehouse, relation))


def test_episode_ids_are_stable_hashes(warehouse: Path) -> None:
    for row in rows(warehouse, "absence_episodes"):
        start = f"{row['start_date'].isoformat()} {row['start_session']}"
        assert (
            row["episode_id"]
            == hashlib.md5(f"{row['urn']}|{row['upn']}|{start}".encode()).hexdigest()
        )


def test_the_data_has_every_case_the_marts_must_handle(la: SyntheticLA) -> None:
    """Guards the comparison above against passing because a case never occurs."""
    support = truth_action_list.expected_pupils_for_support(la, LAST_DAY)
    for flag in (
        "persistent_absence",
        "severe_absence",
        "illness_15_days",
        "penalty_threshold",
        "unresolved_n",
        "support_first",
    ):
        assert any(row[flag] for row in support.values()), flag
    episodes = truth.expected_absence_episodes(la, LAST_DAY)
    assert any(e["is_open"] for e in episodes.values())
    assert any(not e["is_open"] for e in episodes.values())
    # An episode that runs across a weekend, a closure or a skipped session.
    assert any(
        (e["end_date"] - start).days + 1 > e["school_days"]
        for (_, _, start, _), e in episodes.items()
    )
    by_sen = truth.expected_attendance_by_sen(la, LAST_DAY)
    assert {row["suppressed"] for row in by_sen.values()} == {True, False}
    assert any(len(e.sen_history) > 1 for e in la.enrolments), "an SEN status changes"
    upns = [e.upn for e in la.enrolments]
    assert len(upns) > len(set(upns)), "a pupil moves school"
    changed = {flag for e in la.enrolments for _, flag, _ in e.flag_changes}
    assert changed == {"fsm_eligible", "looked_after", "child_in_need", "child_protection_plan"}
    left_out = {c for columns in la.columns_left_out.values() for _, c in columns}
    assert left_out == {"looked_after", "child_protection_plan"}
    pupils = truth.expected_pupil_attendance(la, LAST_DAY)
    by_upn = {(e.urn, e.upn): e for e in la.enrolments}
    # A looked-after status kept after the column went, and a plan never stated.
    assert any(
        r["looked_after"] and "looked_after" in la.left_out(k[0], LAST_DAY)
        for k, r in pupils.items()
    )
    assert any(
        by_upn[k[:2]].child_protection_plan and not r["child_protection_plan"]
        for k, r in pupils.items()
    )
    marks = la.marks_known_after(LAST_DAY)
    assert "#" in marks.values() and "X" in marks.values()
    cme = truth_cme.expected_children_missing_education(la, LAST_DAY)
    assert {row["ended_by"] for row in cme.values()} == {"leaving_date", "dropped"}
    assert {row["status"] for row in cme.values()} == {"listed", "watch"}
    # A pupil who joins another school late is listed until the join is known.
    earlier = truth_cme.expected_children_missing_education(la, LAST_DAY - 2)
    assert any(key not in cme and row["status"] == "listed" for key, row in earlier.items())
    # Blank (not yet taken) marks are filled by the next extract, so they occur only on the
    # latest day: test_as_of_rebuild compares the publications of days 10 and 20, which
    # have them, with the truth.


def test_every_mart_is_published() -> None:
    assert set(PUBLISHED_MARTS) == set(MARTS) | set(OPERATIONAL)
    assert PUBLISHED_MARTS[0] == "pupil_attendance"
