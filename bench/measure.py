"""Run one measured step in its own process: wall time, peak memory and the machine's load."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    name: str
    seconds: float
    # The largest peak resident set (VmHWM) of the step's process or any process under it
    # (dbt); `detail["tree_peak_rss_mib"]` adds up every process's own peak.
    peak_rss_mib: float
    loadavg_before: tuple[float, float, float]
    loadavg_after: tuple[float, float, float]
    detail: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


class StepFailed(Exception):
    """A measured step did not finish; the message has the end of its log, `measurement` its
    time and memory until it ended and `detail["outcome"]` why (failed, out of time, out of
    memory)."""

    def __init__(self, message: str, measurement: Measurement) -> None:
        super().__init__(message)
        self.measurement = measurement


def run_python(
    name: str,
    module: str,
    args: list[str],
    log: Path,
    time_limit: float | None = None,
    memory_limit_mib: float | None = None,
) -> Measurement:
    """`python -m module args` in a child process whose output goes to `log`; the child may
    write a JSON detail file named by its last argument. A step still running after
    `time_limit` seconds, or whose processes hold more than `memory_limit_mib` together, is
    stopped (with everything it started) and raises StepFailed."""
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
            # Its own process group, to stop it with everything it started; without limits
            # it stays in ours, so that ^C on `make bench` reaches it.
            start_new_session=time_limit is not None or memory_limit_mib is not None,
        )
        peaks = _PeakSampler(process.pid, memory_limit_mib)
        peaks.start()
        try:
            process.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            peaks.stopped = f"out of time: stopped after {time_limit:g} s"
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        peaks.stop()
    seconds = time.perf_counter() - started
    after = os.getloadavg()
    detail = json.loads(detail_file.read_text()) if detail_file.exists() else {}
    detail["tree_peak_rss_mib"] = round(sum(peaks.peaks.values()) / 1024, 1)
    peak = max(peaks.peaks.values(), default=0) / 1024
    measured = Measurement(name, round(seconds, 2), round(peak, 1), before, after, detail)
    if peaks.stopped or process.returncode != 0:
        detail["outcome"] = peaks.stopped or f"failed (exit status {process.returncode})"
        tail = log.read_text(errors="replace")[-4000:]
        raise StepFailed(f"{name}: {detail['outcome']} (log {log}):\n{tail}", measured)
    return measured


class _PeakSampler(threading.Thread):
    """Samples VmHWM (peak resident set, KiB) of a process and its descendants every 0.1 s.

    Not getrusage: on Linux a child's ru_maxrss starts from its parent's at fork and survives
    exec, so a small step would report the bench runner's own size. With a memory limit, the
    process group is killed when the resident sets (VmRSS) add up to more: a peer that would
    take the whole machine is stopped before the kernel's OOM killer picks a victim (which can
    be the PostgreSQL server)."""

    def __init__(self, root: int, memory_limit_mib: float | None = None) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.memory_limit_kib = memory_limit_mib * 1024 if memory_limit_mib else None
        self.peaks: dict[int, int] = {}
        self.stopped = ""
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            self._sample()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _sample(self) -> None:
        resident = 0
        for pid in _descendants(self.root):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peaks[pid] = max(self.peaks.get(pid, 0), int(line.split()[1]))
                elif line.startswith("VmRSS:"):
                    resident += int(line.split()[1])
        if self.memory_limit_kib and resident > self.memory_limit_kib and not self.stopped:
            self.stopped = f"out of memory: stopped at {resident / 1024:.0f} MiB"
            try:
                os.killpg(self.root, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found
