"""A child step for tests/bench/test_measure.py (run with `python -m`):

    python -m tests.bench.greedy_child MIB EXIT_STATUS PID_FILE DETAIL.json

starts a grandchild that sleeps and writes its pid to PID_FILE, holds MIB MiB, then sleeps
itself, unless EXIT_STATUS is not 0: then it exits with that status at once.
"""

import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    mib, status, pid_file = int(argv[0]), int(argv[1]), Path(argv[2])
    if status:
        return status
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    pid_file.write_text(str(grandchild.pid))
    held = bytearray(mib * 2**20)
    held[::4096] = b"x" * len(held[::4096])  # touch every page: resident, not just reserved
    time.sleep(120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
