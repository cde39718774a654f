"""newly_listed across two publications: the second build marks exactly the pupils that were
not on the first publication's list, or have gained a flag since it (the generator's truth),
and the flags of the generator's action-list cases are there."""

from pathlib import Path

import pytest

from pipeline import daily
from pipeline.run_info import RunInfo
from synthetic import SyntheticLA, build_la
from tests.support.extracts import deliver
from tests.support.marts import CONFIG, assert_matches, rows
from tests.support.published import published_la
from tests.support.truth import action_list as truth_action_list

FIRST_PUBLICATION_DAY = 19
LAST_DAY = CONFIG.school_days - 1


@pytest.fixture(scope="module")
def la() -> SyntheticLA:
    return build_la(CONFIG)


@pytest.fixture(scope="module")
def second_build(la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> RunInfo:
    """Published after day 19, then days 20 to 27 delivered and built (not yet published)."""
    root = tmp_path_factory.mktemp("newly-listed")
    run = published_la(la, root, range(FIRST_PUBLICATION_DAY + 1))
    deliver(la, run.locations.landing, range(FIRST_PUBLICATION_DAY + 1, LAST_DAY + 1))
    daily.ingest(run)
    daily.build(run)
    return run


def test_newly_listed_is_against_the_previous_publications_list(
    la: SyntheticLA, second_build: RunInfo
) -> None:
    got = rows(second_build.locations.warehouse_db, "pupils_for_support")
    first = truth_action_list.expected_pupils_for_support(la, FIRST_PUBLICATION_DAY)
    second = truth_action_list.expected_pupils_for_support(la, LAST_DAY, previous=first)
    by_key = {(r["urn"], r["upn"], r["academic_year"]): r for r in got}
    assert set(by_key) == set(second)
    for key, want in second.items():
        assert by_key[key]["newly_listed"] == want["newly_listed"], key
        assert by_key[key]["priority"] == want["priority"], key
    new = [k for k, w in second.items() if w["newly_listed"]]
    # Listed at both publications and unchanged; new to the list; listed then, a flag since.
    assert any(not w["newly_listed"] for w in second.values())
    assert any(k not in first for k in new)
    assert any(k in first for k in new)


def test_the_action_list_cases_are_flagged_as_the_truth_says(
    la: SyntheticLA, second_build: RunInfo
) -> None:
    """Every figure of the list built on all days equals the truth (every row new, as the
    truth test's build without a publication: here against the first publication, so only
    newly_listed differs, checked above)."""
    got = rows(Path(second_build.locations.warehouse_db), "pupils_for_support")
    expected = truth_action_list.expected_pupils_for_support(la, LAST_DAY)
    for row in got:
        row["newly_listed"] = True
    assert_matches(la, LAST_DAY, "pupils_for_support", got)
    runs = truth_action_list.longest_unauthorised_runs(la.marks_known_after(LAST_DAY))
    flagged = [k for k, w in expected.items() if w["unauthorised_10_school_days"]]
    # Ten days at a secondary school, ten across the closure day; nine days is not enough.
    assert len(flagged) >= 2
    assert any(
        length == 18 and not expected.get(k, {}).get("unauthorised_10_school_days")
        for k, length in runs.items()
    )
    assert sum(w["part_time_timetable"] for w in expected.values()) >= 2
    offsite = truth_action_list.expected_offsite_counts(la, LAST_DAY)
    assert sum(r["k_sessions"] for r in offsite.values()) > 0
    assert sum(r["b_sessions"] for r in offsite.values()) > 0
