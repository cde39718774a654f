"""The LA's term dates file: which days are in term, and which are closures.

A CSV file with a header row and the columns `area`, `kind`, `first_day`, `last_day`:
`area` is a 3-digit LA code (every school of that LA) or a 6-digit URN (that school alone),
`kind` is `term` or `closure`, and the days run from `first_day` to `last_day` inclusive
(`YYYY-MM-DD`). A school's terms are the rows of its own URN when there are any, else those
of its LA; its closures are those of its URN and of its LA. Where it is: the setting
ATTENDANCE_TERM_DATES (a path; unset, the days are learnt from the registers alone).
"""

import csv
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

TERM_DATES_ENV = "ATTENDANCE_TERM_DATES"
COLUMNS = ("area", "kind", "first_day", "last_day")
KINDS = ("term", "closure")
_AREA = re.compile(r"[0-9]{3}|[0-9]{6}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class TermDatesError(ValueError):
    """The term dates file cannot be used; the message names the file, the line and why."""


@dataclass(frozen=True)
class TermRow:
    area: str
    kind: str
    first_day: date
    last_day: date


def term_dates_path() -> Path | None:
    text = os.environ.get(TERM_DATES_ENV, "").strip()
    return Path(text) if text else None


def read_term_dates(path: Path | None) -> list[TermRow]:
    """Every row of the file at `path` (none when `path` is None), checked whole: a file with
    any wrong row is refused, so that a typing error never silences a school's alerts."""
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise TermDatesError(f"{path}: the term dates file cannot be read ({reason})") from None
    reader = csv.DictReader(text.splitlines())
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TermDatesError(
            f"{path}, line 1: the header lacks {', '.join(missing)} "
            f"(the columns are {', '.join(COLUMNS)})"
        )
    reader.fieldnames = header
    return [_row(path, reader.line_num, record) for record in reader]


def _row(path: Path, line: int, record: dict[str, str | None]) -> TermRow:
    values = {c: (record.get(c) or "").strip() for c in COLUMNS}
    if not _AREA.fullmatch(values["area"]):
        raise TermDatesError(
            f"{path}, line {line}: area {values['area']!r} is neither a 3-digit LA code "
            "nor a 6-digit URN"
        )
    if values["kind"].lower() not in KINDS:
        raise TermDatesError(
            f"{path}, line {line}: kind {values['kind']!r} is not one of {', '.join(KINDS)}"
        )
    first, last = (_day(path, line, c, values[c]) for c in ("first_day", "last_day"))
    if last < first:
        raise TermDatesError(f"{path}, line {line}: last_day {last} is before first_day {first}")
    return TermRow(values["area"], values["kind"].lower(), first, last)


def _day(path: Path, line: int, column: str, text: str) -> date:
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise TermDatesError(f"{path}, line {line}: {column} {text!r} is not a date (YYYY-MM-DD)")
