"""The `attendance` command run as a user runs it, in its own process."""

import subprocess
import sys

from warehouse.project import PROJECT_ROOT


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )
