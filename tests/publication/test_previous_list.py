"""The list newly_listed compares with: the publication in place, or, for a run of the day
already in place (a retry), the list of the day published before it."""

from datetime import date
from pathlib import Path

from publication.previous_list import BASELINE, previous_support_list
from publication.record import PublishingRun, published_parquet
from tests.support.published import file_fingerprints, publish_again


def _publish(published: Path, warehouse: Path, day: str) -> None:
    publish_again(published, warehouse, PublishingRun(run_id=f"run-{day}", register_day=day))


def test_a_retried_day_compares_with_the_day_published_before_it(
    published: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "published"
    assert previous_support_list(folder, date(2025, 9, 10)) is None
    _publish(published, tmp_path, "2025-09-10")
    day_10 = published_parquet(folder, "pupils_for_support")
    assert day_10 is not None
    # The next day compares with the publication in place; a retry of day 10, the first
    # publication, with nothing (every pupil new).
    assert previous_support_list(folder, date(2025, 9, 11)) == day_10
    assert previous_support_list(folder, date(2025, 9, 10)) is None
    assert previous_support_list(folder, None) == day_10
    day_10_bytes = day_10.read_bytes()
    _publish(published, tmp_path, "2025-09-11")
    baseline = folder / BASELINE / "pupils_for_support.parquet"
    assert baseline.read_bytes() == day_10_bytes
    assert previous_support_list(folder, date(2025, 9, 11)) == baseline
    assert previous_support_list(folder, date(2025, 9, 12)) == published_parquet(
        folder, "pupils_for_support"
    )
    # Publishing day 11 again keeps day 10's list as the baseline.
    before = file_fingerprints(folder / BASELINE)
    _publish(published, tmp_path, "2025-09-11")
    assert file_fingerprints(folder / BASELINE) == before
    assert (folder / BASELINE / "register_day").read_text().strip() == "2025-09-10"
    # Pupil data: not world-readable.
    assert baseline.stat().st_mode & 0o007 == 0
