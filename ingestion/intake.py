"""The whole-file matters of a landed extract, decided in Python before any row is read.

A file is opened without following links, checked to be a regular file inside the landing
folder, hashed, decompressed as a stream (never past the size limit), checked to be UTF-8
text without NUL bytes or stray carriage returns, its header read, and copied into a private
staging folder for DuckDB to read with the rest of its round (`round_reader`). A file that
fails any of this is rejected whole with a reason; nothing of it is read as rows.

Reasons never repeat the file's content: a first line that is not a header may be a pupil's
row, so it is described, not quoted.
"""

import codecs
import csv
import gzip
import hashlib
import json
import os
import stat
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ingestion.contract import FileKind
from ingestion.landing import ExtractFile, extract_time_of, urn_of_path
from ingestion.limits import Limits, describe
from ingestion.records import FileOutcome

CHUNK = 1024 * 1024
BOM = codecs.BOM_UTF8


class FileRejected(Exception):
    """The whole file cannot be read; the message says why, for the school's data manager."""


@dataclass
class Intake:
    """A landed file as intake left it: rejected with a reason, or staged for its round."""

    extract: ExtractFile
    outcome: FileOutcome
    extract_time: datetime
    # The school the file's path names (its folder of six digits), if any.
    school: str | None
    staged: Path | None = None
    # CSV: the header's number of columns, and each known column's position in it (or None).
    width: int = 0
    positions: dict[str, int] = field(default_factory=dict)
    # The file's physical lines (the header included), and those that are empty.
    lines: int = 0
    blank_lines: list[int] = field(default_factory=list)

    @property
    def is_jsonl(self) -> bool:
        return ".jsonl" in self.extract.path.name.lower()

    @property
    def data_lines(self) -> int:
        """The lines that hold rows: every non-empty line after a CSV header."""
        header = 0 if self.is_jsonl else 1
        return self.lines - header - sum(line > header for line in self.blank_lines)


def fingerprint(path: Path) -> str:
    """The sha256 of the file as delivered (before decompression), read without following a
    link. A file that is not a regular file gets the fingerprint of its refusal, so that it
    is reported once, not every run; OSError when it cannot be read (it is tried again)."""
    digest = hashlib.sha256()
    try:
        with _open_regular(path) as raw:
            while chunk := raw.read(CHUNK):
                digest.update(chunk)
    except FileRejected as refusal:
        return hashlib.sha256(f"refused: {refusal}".encode()).hexdigest()
    return digest.hexdigest()


def take_in(
    landing: Path, extract: ExtractFile, staging: Path, number: int, limits: Limits
) -> Intake:
    """The file checked whole and staged as `staging/<number>.<csv|jsonl>`, or rejected."""
    relative = extract.path.relative_to(landing)
    intake = Intake(
        extract,
        FileOutcome(str(relative), ""),
        extract_time=datetime.min,
        school=urn_of_path(relative),
    )
    target = staging / f"{number}.{'jsonl' if intake.is_jsonl else 'csv'}"
    try:
        if not Path(os.path.realpath(extract.path)).is_relative_to(landing):
            raise FileRejected("the file lies outside the landing folder (through a link)")
        intake.extract_time = extract_time_of(extract.path)
        _stage(intake, target, limits)
        intake.staged = target
    except FileRejected as rejection:
        intake.outcome.rejected, intake.outcome.reason = True, str(rejection)
        target.unlink(missing_ok=True)
        try:
            intake.outcome.sha256 = fingerprint(extract.path)
        except OSError:
            pass  # it vanished: nothing to recognise it by next time
    except OSError as error:
        reason = error.strerror or type(error).__name__
        intake.outcome.rejected = True
        intake.outcome.reason = f"the file could not be read ({reason}); it is read again next run"
        target.unlink(missing_ok=True)
    return intake


def _open_regular(path: Path) -> BinaryIO:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if os.path.islink(path):
            raise FileRejected(_LINK_REASON) from error
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise FileRejected("it is not a regular file (a device, pipe or socket is never read)")
    return os.fdopen(descriptor, "rb")


_LINK_REASON = (
    "the file is a symbolic link: links are never followed; put the extract itself in the "
    "landing folder"
)


class _Hashing:
    """A raw file read through, hashing what is read (gzip reads the raw file through it)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.digest = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk


def _stage(intake: Intake, target: Path, limits: Limits) -> None:
    with _open_regular(intake.extract.path) as raw:
        hashing = _Hashing(raw)
        gzipped = intake.extract.path.name.lower().endswith(".gz")
        source = gzip.GzipFile(fileobj=hashing, mode="rb") if gzipped else hashing
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            _copy_checked(intake, source, out, limits)
        # Whatever the copy left unread (a gzip's trailer) still counts in the fingerprint.
        while hashing.read(CHUNK):
            pass
        intake.outcome.sha256 = hashing.digest.hexdigest()


def _copy_checked(intake: Intake, source, out: BinaryIO, limits: Limits) -> None:
    """Copy the decompressed text to `out`, checking it while it streams through."""
    text = _TextCheck(limits)
    while True:
        try:
            chunk = source.read(CHUNK)
        except (EOFError, OSError, zlib.error) as error:
            if isinstance(error, OSError) and error.errno is not None:
                raise  # the disk's, not the gzip's (BadGzipFile has no errno)
            raise FileRejected(f"the gzip file is truncated or damaged ({error})") from None
        if not chunk:
            break
        out.write(text.take(chunk))
    out.write(text.finish())
    intake.lines, intake.blank_lines = text.lines, text.blank_lines
    if not text.head.strip():
        raise FileRejected(
            "the file is empty" if not intake.data_lines else "the first line is empty"
        )
    if len(text.head) > limits.line_bytes:
        raise FileRejected(_too_long(1, limits))
    intake.outcome.rows_read = intake.data_lines
    if intake.is_jsonl:
        _check_first_object(intake.extract.kind, text.head)
    else:
        intake.width, intake.positions = _read_header(intake.extract.kind, text.head)


class _TextCheck:
    """Streaming checks of decompressed text: size, UTF-8, NUL, line ends; counts lines and
    keeps the first line (the header) and the numbers of empty lines."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.size = 0
        self.lines = 0
        self.blank_lines: list[int] = []
        self.head = b""
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.started = False
        self.held = b""
        self.after_newline = True  # the start of the file is the start of a line

    def take(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.limits.file_bytes:
            raise FileRejected(
                f"the file is larger than {describe(self.limits.file_bytes)} once decompressed "
                "(the limit is set by ATTENDANCE_MAX_FILE_BYTES)"
            )
        chunk = self.held + chunk
        self.held = b""
        if not self.started:
            if len(chunk) < len(BOM) and BOM.startswith(chunk):
                self.held = chunk
                return b""
            self.started = True
            chunk = chunk.removeprefix(BOM)
        if chunk.endswith(b"\r"):
            self.held, chunk = b"\r", chunk[:-1]
        return self._checked(chunk)

    def finish(self) -> bytes:
        chunk, self.held = self.held, b""
        tail = self._checked(chunk) if chunk else b""
        try:
            self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRejected(self._not_utf8(self.lines + 1)) from None
        if self.size and not self.after_newline:
            self.lines += 1  # a last line without its line end
        return tail

    def _checked(self, chunk: bytes) -> bytes:
        chunk = chunk.replace(b"\r\n", b"\n")
        try:
            self.decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise FileRejected(self._not_utf8(self._line_at(chunk, error.start))) from None
        for byte, reason in ((b"\x00", "a NUL byte"), (b"\r", "a carriage return on its own")):
            at = chunk.find(byte)
            if at >= 0:
                raise FileRejected(
                    f"line {self._line_at(chunk, at)} holds {reason}: the file is not a plain "
                    "text export; export it again as CSV or JSON Lines"
                )
        if len(self.head) < self.limits.line_bytes and (not self.head or b"\n" not in self.head):
            self.head += chunk[: self.limits.line_bytes + 1]
            self.head = self.head.split(b"\n", 1)[0] if b"\n" in self.head else self.head
        self._count_lines(chunk)
        return chunk

    def _count_lines(self, chunk: bytes) -> None:
        # Empty lines are rare: found by search, not line by line.
        start = self.lines
        if self.after_newline and chunk.startswith(b"\n"):
            self.blank_lines.append(start + 1)
        at, counted, line = chunk.find(b"\n\n"), 0, start
        while at >= 0:
            line += chunk.count(b"\n", counted, at + 1)
            counted = at + 1
            self.blank_lines.append(line + 1)
            at = chunk.find(b"\n\n", at + 1)
        self.lines += chunk.count(b"\n")
        if chunk:
            self.after_newline = chunk.endswith(b"\n")

    def _line_at(self, chunk: bytes, position: int) -> int:
        return self.lines + chunk.count(b"\n", 0, position) + 1

    @staticmethod
    def _not_utf8(line: int) -> str:
        return (
            f"the file is not UTF-8 text (first bad byte on line {line}); export it again as UTF-8"
        )


def _too_long(line: int, limits: Limits) -> str:
    return (
        f"line {line} is longer than {describe(limits.line_bytes)} "
        "(the limit is set by ATTENDANCE_MAX_LINE_BYTES)"
    )


def _header_problem(kind: FileKind, names: list[str]) -> str | None:
    known = [n for n in names if n in kind.file_columns]
    if not known:
        return (
            f"the first line is not a header: a {kind.name} file starts with the names of its "
            f"columns ({', '.join(kind.required_columns)})"
        )
    missing = [c for c in kind.required_columns if c not in names]
    if missing:
        return (
            f"the {kind.name} file has no column {', '.join(missing)} "
            f"(it has: {', '.join(dict.fromkeys(known))})"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        named = [n for n in repeated if n in kind.file_columns]
        which = f"column {', '.join(named)}" if named else "a column"
        return f"the header names {which} more than once: each column must be named once"
    return None


def _read_header(kind: FileKind, head: bytes) -> tuple[int, dict[str, int]]:
    try:
        [fields] = list(csv.reader([head.decode("utf-8")], strict=True))
    except (csv.Error, ValueError):
        raise FileRejected("the first line is not a header: it cannot be read as CSV") from None
    names = [name.strip().lower() for name in fields]
    problem = _header_problem(kind, names)
    if problem:
        raise FileRejected(problem)
    return len(names), {c: names.index(c) for c in kind.known_columns if c in names}


def _check_first_object(kind: FileKind, head: bytes) -> None:
    """JSON Lines has no header: the first object's fields stand for it."""

    def pairs(items: list[tuple[str, object]]) -> dict:
        names = [str(key).strip().lower() for key, _ in items]
        problem = _header_problem(kind, names) if names else None
        if problem and "more than once" in problem:
            raise FileRejected(problem.replace("the header names", "the first object names"))
        return dict(zip(names, (value for _, value in items), strict=True))

    try:
        first = json.loads(head.decode("utf-8"), object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        first = None
    if not isinstance(first, dict):
        raise FileRejected(
            "the first line is not a JSON object: a JSON Lines extract holds one object per line"
        )
    problem = _header_problem(kind, list(first))
    if problem:
        raise FileRejected(problem.replace("the header", "the first object"))
