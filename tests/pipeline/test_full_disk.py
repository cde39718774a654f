"""A full disk is named on the terminal of `attendance run`, with the step it stopped (and
a run given no register day says which day it took).

The warehouse is put on a real file system too small for a build (a 3 MiB tmpfs, mounted
for the test; the tests run as root): the run fills it, and its log and alerts, on the
same disk, are cut short. The terminal must still say which disk and which step.
"""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthetic import SyntheticLA
from tests.support.cli import run_cli
from tests.support.extracts import deliver


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small_disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0750", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_names_the_disk_and_the_step(
    tiny_la: SyntheticLA, airflow_env: dict[str, str], small_disk: Path, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    deliver(tiny_la, landing, range(tiny_la.config.school_days))
    warehouse = small_disk / "warehouse"
    env = {k: v for k, v in airflow_env.items() if k != "ATTENDANCE_FEED_URL"}
    done = run_cli(env, "run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert done.returncode == 1
    # Without --date, the run is for the latest day the extracts cover, and says so.
    assert done.stdout.startswith(
        f"register day {tiny_la.days[-1]}: the latest day the extracts cover\n"
        f"Running attendance_daily for {tiny_la.days[-1]} on {landing}\n"
    ), done.stdout
    error = done.stderr.splitlines()[0]
    said = re.fullmatch(
        r"error: the run stopped for want of disk space \(failed step: (\w+)\): the disk "
        rf"mounted at {re.escape(str(small_disk))}, which holds the warehouse "
        rf"{re.escape(str(warehouse))}, is full \(.* free of 3\.0 MiB\)\. Free space there, "
        r"or move that folder to a larger disk, and run again; the last good publication is "
        r"unchanged\.",
        error,
    )
    assert said, done.stderr
    # The ingest (a few hundred KiB of events) fits; the build's tables do not.
    assert said.group(1) == "build"
    assert "Traceback" not in done.stderr
