"""Generated authorities for the tests: the tiny LA and its extracts, written day by day."""

import shutil
from pathlib import Path

from synthetic import GeneratorConfig, SyntheticLA, write_extracts_for_day

# A small authority that still has every kind of file: CSV, JSON Lines, gzip, BOM, shuffled
# columns, amended and not-yet-taken marks, a closure day, rows that must be quarantined.
TINY = GeneratorConfig(schools=4, pupils=60, school_days=6, window_days=3, closure_day=2)


def deliver(la: SyntheticLA, landing: Path, days: range, skip_urns: tuple[str, ...] = ()) -> None:
    """The extracts of each of `days` (school day indexes) land in `landing`, except those of
    the schools `skip_urns`."""
    for day_index in days:
        if not skip_urns:
            write_extracts_for_day(la, day_index, landing)
            continue
        held = landing.parent / f".held-{day_index}"
        for path in write_extracts_for_day(la, day_index, held):
            relative = path.relative_to(held)
            if relative.parts[0] not in skip_urns:
                (landing / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, landing / relative)
        shutil.rmtree(held)
