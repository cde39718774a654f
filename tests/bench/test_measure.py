"""`bench.measure.run_python`: a step past its time or memory limit is stopped with everything
it started, and the record says why; a failing step says so too."""

import os
import time
from pathlib import Path

import pytest

from bench.measure import StepFailed, run_python

CHILD = "tests.bench.greedy_child"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of a killed parent is reaped by init; until then it is a zombie.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _stopped(tmp_path: Path, mib: int, **limits: float) -> StepFailed:
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(StepFailed) as failed:
        run_python("greedy", CHILD, [str(mib), "0", str(pid_file)], tmp_path / "g.log", **limits)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild), "the step's own child process outlived it"
    return failed.value


def test_a_step_out_of_time_is_stopped_with_its_children(tmp_path: Path) -> None:
    failure = _stopped(tmp_path, 10, time_limit=3)
    measured = failure.measurement
    assert measured.detail["outcome"] == "out of time: stopped after 3 s"
    assert 3 <= measured.seconds < 60
    assert "out of time" in str(failure)


def test_a_step_over_its_memory_limit_is_stopped_with_its_children(tmp_path: Path) -> None:
    failure = _stopped(tmp_path, 400, memory_limit_mib=200)
    measured = failure.measurement
    assert measured.detail["outcome"].startswith("out of memory: stopped at ")
    # The limit is on the processes together: the child alone may stop short of it (its
    # grandchild holds ~10 MiB), so the figure to check is the tree's.
    assert measured.detail["tree_peak_rss_mib"] > 200
    assert measured.seconds < 60


def test_a_failing_step_says_its_exit_status(tmp_path: Path) -> None:
    with pytest.raises(StepFailed) as failed:
        run_python("failing", CHILD, ["0", "3", str(tmp_path / "p")], tmp_path / "f.log")
    assert failed.value.measurement.detail["outcome"] == "failed (exit status 3)"
