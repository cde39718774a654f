"""Run one measured step in its own process: wall time, peak memory and the machine's load."""

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    name: str
    seconds: float
    # The largest resident set of the step's process or any process it waited for (dbt).
    peak_rss_mib: float
    loadavg_before: tuple[float, float, float]
    loadavg_after: tuple[float, float, float]
    detail: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


class StepFailed(Exception):
    """A measured step did not finish; the message has the end of its log."""


def run_python(name: str, module: str, args: list[str], log: Path) -> Measurement:
    """`python -m module args` in a child process whose output goes to `log`; the child may
    write a JSON detail file named by its last argument."""
    log.parent.mkdir(parents=True, exist_ok=True)
    detail_file = log.with_suffix(".json")
    detail_file.unlink(missing_ok=True)
    before = os.getloadavg()
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args, str(detail_file)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    after = os.getloadavg()
    if os.waitstatus_to_exitcode(status) != 0:
        tail = log.read_text(errors="replace")[-4000:]
        raise StepFailed(f"{name} failed (log {log}):\n{tail}")
    detail = json.loads(detail_file.read_text()) if detail_file.exists() else {}
    # ru_maxrss is in KiB on Linux.
    return Measurement(
        name, round(seconds, 2), round(usage.ru_maxrss / 1024, 1), before, after, detail
    )
