"""The limits a landed file must keep to be read (docs/feed.md, "What is refused").

A school's daily extract is a few hundred kilobytes; the limits are far above that, and
exist so that one broken or hostile file (a gzip that expands to gigabytes, a line that never
ends) is refused on its own instead of filling the memory or the disk of the morning's run.
Each can be changed through the environment.
"""

import os
from dataclasses import dataclass, field
from datetime import date

from ingestion.rules.kinds import DateLimits

FILE_BYTES_ENV = "ATTENDANCE_MAX_FILE_BYTES"
LINE_BYTES_ENV = "ATTENDANCE_MAX_LINE_BYTES"
FIELD_BYTES_ENV = "ATTENDANCE_MAX_FIELD_BYTES"
# The first day the deployment's registers cover: an earlier session_date is quarantined.
FIRST_SESSION_DATE_ENV = "ATTENDANCE_FIRST_SESSION_DATE"

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # Bytes of a file once decompressed (a gzip file is measured as it expands).
    file_bytes: int = 512 * MIB
    # Bytes of one line (one row: a field never holds a line break).
    line_bytes: int = 64 * 1024
    # Bytes of one value of a column the pipeline reads.
    field_bytes: int = 4096
    # The plausible dates of a row (rules/kinds.py).
    dates: DateLimits = field(default_factory=DateLimits)

    @classmethod
    def from_environment(cls) -> "Limits":
        defaults = cls()
        return cls(
            file_bytes=_bytes_setting(FILE_BYTES_ENV, defaults.file_bytes),
            line_bytes=_bytes_setting(LINE_BYTES_ENV, defaults.line_bytes),
            field_bytes=_bytes_setting(FIELD_BYTES_ENV, defaults.field_bytes),
            dates=DateLimits(first_session_date=_first_session_date(defaults.dates)),
        )


def _bytes_setting(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number of bytes above 0, not {text!r}")
    return int(text)


def _first_session_date(defaults: DateLimits) -> date:
    text = os.environ.get(FIRST_SESSION_DATE_ENV, "").strip()
    if not text:
        return defaults.first_session_date
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{FIRST_SESSION_DATE_ENV} must be a date (YYYY-MM-DD), not {text!r}"
        ) from None


def describe(size: int) -> str:
    """A byte count as a person reads it (4,096 bytes; 64 KiB; 512 MiB)."""
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale:,} {unit}"
    return f"{size:,} bytes"
