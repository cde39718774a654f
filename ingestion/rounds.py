"""Files taken in ahead of their turn and grouped into rounds that can land together.

A window of files is taken in (on two threads, in order: `intake.take_in` hashes, checks and
stages each), then landed in rounds: a round's files are read, checked and placed in the
event store in one pass, and the rounds are made so that landing them in turn gives what
landing the files one at a time would (`Window`).
"""

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ingestion.contract import KINDS, kind_of
from ingestion.intake import Intake, fingerprint, take_in
from ingestion.landing import ExtractFile, urn_of_path
from ingestion.limits import Limits
from ingestion.records import FileOutcome

# A window's files wait staged on disk, and each round's are read and placed in one pass:
# one scan of a stored stream for all.
WINDOW_ROWS = 2_000_000
WINDOW_FILES = 2_000
# Files taken in ahead of the one being placed in its window: enough to keep the other core
# busy while this one lands a round. (A whole window ahead was measured slower on 2 cores:
# the threads then compete with DuckDB's landing for the same cores.)
READ_AHEAD_FILES = 8
READ_AHEAD_THREADS = 2


@dataclass
class Window:
    """Files taken in order, each placed in the earliest round that lands it after every
    earlier file it could interact with, so landing the rounds in turn gives what landing the
    files in turn gives. Files interact when they name a school in common and are of one kind
    (their stream keys could meet), or are a marks file and a later pupils file (the marks'
    on-roll check must not see the pupils): then the later file lands in a later round. A
    marks file after a pupils file may share its round (a round lands pupils before marks).
    A file's rows are only ever its school's (a row naming another school is quarantined), so
    its school is its path's; a file whose path names no school may hold any school's rows
    and lands after everything before it."""

    files: list[Intake] = field(default_factory=list)
    rounds_of: list[int] = field(default_factory=list)
    rows: int = 0
    # kind -> urn -> the latest round of a file of that kind naming the urn
    latest: dict[str, dict[str, int]] = field(default_factory=dict)
    last_round: int = -1

    def add(self, intake: Intake) -> None:
        number = 0
        if not intake.outcome.rejected:
            number = self._round_for(intake)
            self.last_round = max(self.last_round, number)
        self.files.append(intake)
        self.rounds_of.append(number)
        self.rows += intake.data_lines if not intake.outcome.rejected else 0

    def _round_for(self, intake: Intake) -> int:
        kind = intake.extract.kind.name
        own = self.latest.setdefault(kind, {})
        if intake.school is None:
            number = self.last_round + 1
            for seen in self.latest.values():
                for urn in seen:
                    seen[urn] = max(seen[urn], number)
            own["*"] = number
            return number
        marks, pupils = self.latest.get("marks", {}), self.latest.get("pupils", {})
        after = [own[u] + 1 for u in (intake.school, "*") if u in own]
        if kind == "pupils":
            after += [marks[u] + 1 for u in (intake.school, "*") if u in marks]
        if kind == "marks":
            after += [pupils[u] for u in (intake.school, "*") if u in pupils]
        number = max(after, default=0)
        own[intake.school] = number
        return number

    def rounds(self) -> list[list[Intake]]:
        count = max(self.rounds_of, default=-1) + 1
        return [
            [f for f, r in zip(self.files, self.rounds_of, strict=True) if r == number]
            for number in range(count)
        ]


def read_ahead(
    files: list[ExtractFile], take: Callable[[int, ExtractFile], Intake | None]
) -> Iterator[Intake | None]:
    """`take` of each file, in order, with the next few files taken in meanwhile on other
    threads (hashing, decompressing and copying run without Python's lock)."""
    with ThreadPoolExecutor(max_workers=READ_AHEAD_THREADS) as pool:
        pending: deque[Future[Intake | None]] = deque()
        for number, extract in enumerate(files):
            pending.append(pool.submit(take, number, extract))
            if len(pending) > READ_AHEAD_FILES:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def take_new_file(
    landing: Path,
    staging: Path,
    limits: Limits,
    seen: Mapping[str, set[str]],
    number: int,
    extract: ExtractFile,
) -> Intake | None:
    """The file taken in, or None when this path with these bytes was ingested before."""
    relative = str(extract.path.relative_to(landing))
    # A path never ingested is new whatever its bytes: no need to read it twice.
    if relative in seen:
        try:
            if fingerprint(extract.path) in seen[relative]:
                return None
        except OSError:
            pass  # take_in meets the same problem and says what it is
    return take_in(landing, extract, staging, number, limits)


def refused_link(landing: Path, link: Path) -> Intake:
    """A symbolic link met in the landing folder: refused, with a reason, never followed."""
    relative = link.relative_to(landing)
    # The fingerprint of a link is of where it points: the same link is reported once.
    target = os.readlink(link).encode("utf-8", "surrogateescape")
    outcome = FileOutcome(str(relative), hashlib.sha256(b"link:" + target).hexdigest())
    outcome.rejected = True
    outcome.reason = (
        "a symbolic link: links are never followed (nothing behind it is read); put the "
        "extract files themselves in the landing folder"
    )
    kind = kind_of(link.name) or KINDS[0]
    return Intake(
        ExtractFile(link, kind), outcome, extract_time=datetime.min, school=urn_of_path(relative)
    )
