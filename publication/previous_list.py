"""The action list that `newly_listed` compares with: the one readers received last.

Normally that is the `pupils_for_support` Parquet file of the publication in place. A day
published and then run again (a retry, late data) would compare with its own publication
and find nothing new, so each publication that replaces another day's keeps that day's list
as the baseline (`baseline/pupils_for_support.parquet`, with `baseline/register_day`): a
run of the day in place compares with the baseline instead.
"""

import os
import shutil
from datetime import date
from pathlib import Path

from publication.record import PublicationRecord, published_parquet, read_record
from warehouse.files import fsync_file, write_text_atomically
from warehouse.permissions import make_folders, restrict

MART = "pupils_for_support"
BASELINE = "baseline"


def keep_baseline(
    folder: Path, outgoing: PublicationRecord | None, register_day: str | None
) -> None:
    """Before a publication for `register_day` replaces `outgoing` in `folder`: when
    `outgoing` is another day's, copy its list to the baseline."""
    if outgoing is None or outgoing.run.register_day == register_day:
        return
    source = published_parquet(folder, MART)
    if source is None:
        return
    baseline = folder / BASELINE
    make_folders(baseline)
    staged = baseline / f".{MART}.parquet.tmp"
    shutil.copyfile(source, staged)
    restrict(staged)
    fsync_file(staged)
    os.replace(staged, baseline / f"{MART}.parquet")
    write_text_atomically(baseline / "register_day", f"{outgoing.run.register_day or ''}\n")


def previous_support_list(folder: Path, register_day: date | None) -> Path | None:
    """The list a build for `register_day` compares with (None: every listed pupil is new)."""
    record = read_record(folder)
    if record is None:
        return None
    if register_day is not None and record.run.register_day == register_day.isoformat():
        baseline = folder / BASELINE / f"{MART}.parquet"
        return baseline if baseline.is_file() else None
    return published_parquet(folder, MART)
