"""Files read ahead and grouped into rounds that can land together.

A window of files is read (on two threads, in order), then landed in rounds: a round's files
are checked and placed in the event store in one pass, and the rounds are made so that
landing them in turn gives what landing the files one at a time would (`Window`).
"""

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ingestion.landing import ExtractFile, extract_time_of
from ingestion.readers import FileRejected, RowBatch, RowProblem, decode, read_batch, read_bytes
from ingestion.records import FileOutcome, Quarantined
from ingestion.rules.sql_rules import FileText, text_table

# A window of files is read, then landed in rounds. Its rows wait in memory (as Arrow text),
# and each round's are checked and placed in one pass: one scan of a stored stream for all.
WINDOW_ROWS = 2_000_000
WINDOW_FILES = 2_000
# Files parsed ahead of the one being placed in its window (read_ahead): enough to keep the
# other core busy, few enough that at most this many files' rows wait beyond the window.
READ_AHEAD_FILES = 8
READ_AHEAD_THREADS = 2


@dataclass
class PendingFile:
    """A file read and waiting for its round to land."""

    extract: ExtractFile
    outcome: FileOutcome
    extract_time: datetime
    text: FileText | None
    problems: list[RowProblem]
    # The urns its rows name (spaces stripped, as clean_row reads them): every stream key
    # starts with the urn, so files naming no urn in common cannot meet in a stream.
    urns: frozenset[str]
    round: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)


@dataclass
class Window:
    """Files read in order, each placed in the earliest round that lands it after every
    earlier file it could interact with, so landing the rounds in turn gives what landing the
    files in turn gives. Files interact when they name a school in common and are of one kind
    (their stream keys could meet), or are a marks file and a later pupils file (the marks'
    on-roll check must not see the pupils): then the later file lands in a later round. A
    marks file after a pupils file may share its round (a round lands pupils before marks)."""

    files: list[PendingFile] = field(default_factory=list)
    rows: int = 0
    # kind -> urn -> the latest round of a file of that kind naming the urn
    latest: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, pending: PendingFile) -> None:
        kind = pending.extract.kind.name
        own = self.latest.setdefault(kind, {})
        marks, pupils = self.latest.get("marks", {}), self.latest.get("pupils", {})
        after = [own[u] + 1 for u in pending.urns if u in own]
        if kind == "pupils":
            after += [marks[u] + 1 for u in pending.urns if u in marks]
        if kind == "marks":
            after += [pupils[u] for u in pending.urns if u in pupils]
        pending.round = max(after, default=0)
        for urn in pending.urns:
            own[urn] = pending.round
        self.files.append(pending)
        self.rows += pending.outcome.rows_read

    def rounds(self) -> list[list[PendingFile]]:
        count = max((p.round for p in self.files), default=-1) + 1
        return [[p for p in self.files if p.round == number] for number in range(count)]


def read_ahead(
    files: list[ExtractFile], read: Callable[[ExtractFile], PendingFile | None]
) -> Iterator[PendingFile | None]:
    """`read` of each file, in order, with the next few files read meanwhile on other threads.

    Parsing a file is mostly DuckDB's and Arrow's work, which runs without Python's lock, so
    the second core reads the next files while this one lands a round. A file's error
    surfaces when its turn comes, after every file before it, as when reading one at a time.
    """
    with ThreadPoolExecutor(max_workers=READ_AHEAD_THREADS) as pool:
        pending: deque[Future[PendingFile | None]] = deque()
        for extract in files:
            pending.append(pool.submit(read, extract))
            if len(pending) > READ_AHEAD_FILES:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def read_new_file(
    landing: Path, extract: ExtractFile, seen: frozenset[tuple[str, str]]
) -> PendingFile | None:
    """The file read, or None when this path with these bytes was ingested before."""
    data, sha256 = read_bytes(extract.path)
    relative = str(extract.path.relative_to(landing))
    if (relative, sha256) in seen:
        return None
    return _read_file(extract, relative, data, sha256)


def _read_file(extract: ExtractFile, relative: str, data: bytes, sha256: str) -> PendingFile:
    outcome = FileOutcome(relative, sha256)
    batch = RowBatch(extract.kind)
    try:
        read_batch(extract, decode(extract.path, data), batch)
    except FileRejected as rejection:
        outcome.rejected, outcome.reason = True, str(rejection)
    outcome.rows_read = batch.rows_read
    extract_time = extract_time_of(extract.path)
    if outcome.rejected:
        return PendingFile(extract, outcome, extract_time, None, [], frozenset())
    text = FileText(extract.kind, text_table(batch), batch.present) if batch.lines else None
    urns = frozenset(urn.strip() for urn in batch.columns.get("urn", ()))
    return PendingFile(extract, outcome, extract_time, text, batch.problems, urns)
