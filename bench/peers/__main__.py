"""Child process of the bench: one peer on one store, timed from inside (`compute_seconds`;
the parent measures the whole process):

    python -m bench.peers PEER INPUT_DIR OUTPUT_DIR DETAIL.json
"""

import json
import sys
import time
from pathlib import Path

from bench.peers.frames import run_pandas, run_polars
from bench.peers.postgres import run_postgres
from bench.peers.sql import run_duckdb

# Each peer imports its own libraries inside its function, so this process loads only the
# one it runs, and its peak memory is that peer's alone.
PEERS = {
    "duckdb": run_duckdb,
    "polars": run_polars,
    "pandas": run_pandas,
    "postgres": run_postgres,
}


def main(argv: list[str]) -> int:
    peer, source, out, detail = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    extra = PEERS[peer](source, out) or {}
    seconds = round(time.perf_counter() - started, 2)
    detail.write_text(json.dumps({"compute_seconds": seconds, **extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
