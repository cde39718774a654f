"""`bench.runners.median_run`: a W1 morning measured several times is recorded by its median run."""

from pathlib import Path

import pytest

from bench.measure import Measurement
from bench.run import main
from bench.runners import median_run


def _run(seconds: float, peak: float, ingest: float) -> Measurement:
    return Measurement(
        "W1 day 5", seconds, peak, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0), {"ingest": ingest}
    )


def test_the_median_run_is_recorded_with_every_time_and_the_highest_peak() -> None:
    runs = [_run(51.7, 2300.0, 18.2), _run(35.7, 2500.0, 12.6), _run(40.6, 2400.0, 14.0)]
    record = median_run(runs)
    assert record.seconds == 40.6
    # The median run's own task times, not a mixture of runs.
    assert record.detail["ingest"] == 14.0
    assert record.detail["runs_seconds"] == [51.7, 35.7, 40.6]
    assert record.peak_rss_mib == 2500.0


def test_an_even_count_takes_the_lower_middle_and_one_run_is_itself() -> None:
    assert median_run([_run(4.0, 1.0, 0), _run(2.0, 1.0, 0)]).seconds == 2.0
    single = median_run([_run(3.0, 7.0, 1.5)])
    assert (single.seconds, single.peak_rss_mib, single.detail["runs_seconds"]) == (3.0, 7.0, [3.0])


def test_fewer_than_one_run_is_refused_before_anything_is_measured(tmp_path: Path) -> None:
    folders = ("--work", str(tmp_path / "work"), "--out", str(tmp_path / "out"))
    with pytest.raises(SystemExit):
        main(["--scale", "smoke", "--w1-repeats", "0", *folders])
    assert not any(tmp_path.iterdir())
