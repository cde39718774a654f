"""The pull's configuration, read from the environment by the DAG's pull task.

The limits bound what a broken or hostile feed can cost a morning: how long one request and
the whole pull may take, and how many bytes a listing page and a file may hold
(docs/http-pull.md#limits). They are read here and nowhere else; the DAG's timeout for the
pull task is derived from the run deadline here too, so the two cannot drift apart.
"""

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

# No URL, no pull (docs/http-pull.md).
URL_ENV = "ATTENDANCE_FEED_URL"
TOKEN_ENV = "ATTENDANCE_FEED_TOKEN"
SOURCE_ENV = "ATTENDANCE_FEED_SOURCE"
DEFAULT_SOURCE = "mis"

# Wall-clock seconds for one request's whole answer, body included (each retry has its own).
REQUEST_DEADLINE_ENV = "ATTENDANCE_FEED_REQUEST_DEADLINE"
DEFAULT_REQUEST_DEADLINE = 600.0
# Wall-clock seconds for a whole pull: every page, file, retry and wait.
RUN_DEADLINE_ENV = "ATTENDANCE_FEED_RUN_DEADLINE"
DEFAULT_RUN_DEADLINE = 3600.0
# Bytes of one listing page: a page of 500 extracts is well under 1 MiB.
MAX_LISTING_BYTES_ENV = "ATTENDANCE_FEED_MAX_LISTING_BYTES"
DEFAULT_MAX_LISTING_BYTES = 4 << 20
# Bytes of one downloaded file, as served (before any decompression).
MAX_FILE_BYTES_ENV = "ATTENDANCE_FEED_MAX_FILE_BYTES"
DEFAULT_MAX_FILE_BYTES = 512 << 20

# The pull task's execution_timeout is the run deadline plus this: time for the pull to fail
# itself with a clear message (and release its lock) before Airflow kills the task.
PULL_TASK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Limits:
    """What one pull may cost; `pull_extracts` takes these as keyword arguments."""

    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    run_deadline: float = DEFAULT_RUN_DEADLINE
    max_listing_bytes: int = DEFAULT_MAX_LISTING_BYTES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Limits":
        return cls(
            request_deadline=_seconds(environ, REQUEST_DEADLINE_ENV, DEFAULT_REQUEST_DEADLINE),
            run_deadline=_seconds(environ, RUN_DEADLINE_ENV, DEFAULT_RUN_DEADLINE),
            max_listing_bytes=_bytes(environ, MAX_LISTING_BYTES_ENV, DEFAULT_MAX_LISTING_BYTES),
            max_file_bytes=_bytes(environ, MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES),
        )

    def check(self) -> None:
        """Raises ValueError naming the setting when a limit is not positive."""
        for name, value, setting in (
            ("request_deadline", self.request_deadline, REQUEST_DEADLINE_ENV),
            ("run_deadline", self.run_deadline, RUN_DEADLINE_ENV),
            ("max_listing_bytes", self.max_listing_bytes, MAX_LISTING_BYTES_ENV),
            ("max_file_bytes", self.max_file_bytes, MAX_FILE_BYTES_ENV),
        ):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} ({setting}) must be more than 0, not {value!r}")


def pull_task_timeout(environ: Mapping[str, str] = os.environ) -> timedelta:
    """The Airflow execution_timeout of the pull task: the run deadline and a margin."""
    run_deadline = Limits.from_environment(environ).run_deadline
    return timedelta(seconds=math.ceil(run_deadline)) + PULL_TASK_MARGIN


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0) or not text.isascii():
        raise ValueError(
            f"{name}={text[:40]!r} is not a number of seconds more than 0 "
            f"(for example {default:g}, the default)"
        )
    return value


def _bytes(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise ValueError(
            f"{name}={text[:40]!r} is not a whole number of bytes more than 0 "
            f"(for example {default}, the default)"
        )
    return int(text)
