"""Which DAG run built the marts in the working warehouse, and with which cut-off.

`build` writes the stamp; `audit` and `publish` refuse marts that another run rebuilt in
between, so two interleaved runs (a backfill next to the daily run) can never publish each
other's marts under the wrong day.
"""

import json
from pathlib import Path

from warehouse.files import write_text_atomically

STAMP_FILE = "build-stamp.json"


class MartsRebuiltByAnotherRun(Exception):
    """The marts were rebuilt by another DAG run after this run built them."""


def write_build_stamp(work: Path, run_id: str, cutoff: str | None) -> None:
    """Record that the marts in the warehouse are `run_id`'s build (atomically)."""
    write_text_atomically(work / STAMP_FILE, json.dumps({"run_id": run_id, "cutoff": cutoff}))


def clear_build_stamp(work: Path) -> None:
    (work / STAMP_FILE).unlink(missing_ok=True)


def check_build_stamp(work: Path, run_id: str) -> dict[str, str | None]:
    """The build stamp (run_id, cutoff); raises unless the marts are the ones `run_id` built."""
    path = work / STAMP_FILE
    stamp = json.loads(path.read_text()) if path.exists() else {}
    built_by = stamp.get("run_id")
    if built_by != run_id:
        raise MartsRebuiltByAnotherRun(
            f"the marts in the warehouse are not this run's build (built by "
            f"{built_by or 'an unfinished or failed build'}, this run is {run_id}): another "
            "run rebuilt them in between. Nothing was published by this run; re-run it "
            "(re-running a day is safe)."
        )
    return stamp
