"""Child process of the bench (W2): rebuild every mart from the event store, as a replay.

python -m bench.replay WAREHOUSE DETAIL.json
"""

import json
import sys
import time
from pathlib import Path

from pipeline.marts import build_marts
from warehouse.locations import resolve_locations


def main(argv: list[str]) -> int:
    locations = resolve_locations(None, Path(argv[0]))
    started = time.perf_counter()
    build_marts(locations.warehouse_db, locations.work, full_refresh=True)
    seconds = round(time.perf_counter() - started, 2)
    Path(argv[1]).write_text(json.dumps({"dbt_build_full_refresh_seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
