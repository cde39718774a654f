"""The walk through the feed's pages: each extract's files saved, each page's cursor committed.

Files land as `landing/<source>/<urn>/<stamp>/<name>`, where the ingester finds them like
any other delivered file.
"""

import http.client
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingestion.http_pull.checked_writer import (
    remove_partials,
    sha256_of,
    too_large,
    write_checked,
)
from ingestion.http_pull.client import (
    Client,
    RetryPolicy,
    check_token,
    checked_base_url,
    declared_size,
)
from ingestion.http_pull.config import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_LISTING_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    DEFAULT_RUN_DEADLINE,
    DEFAULT_SOURCE,
    SOURCE_ENV,
    TOKEN_ENV,
    URL_ENV,
    Limits,
)
from ingestion.http_pull.cursor import commit_cursor, exclusive, read_cursor
from ingestion.http_pull.deadline import Deadline
from ingestion.http_pull.errors import Failure, PullFailed, RequestFailed
from ingestion.http_pull.listing import FeedFile, get_page, listing_url
from warehouse.permissions import make_folders

log = logging.getLogger(__name__)

_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass
class PullSummary:
    source: str
    pages: int = 0
    extracts_saved: int = 0
    files_downloaded: int = 0
    files_already_present: int = 0
    files_replaced: int = 0
    bytes_downloaded: int = 0
    cursor: str | None = None
    # False when the pull stopped at max_pages with more to come (the next pull continues).
    complete: bool = True

    def describe(self) -> str:
        more = "" if self.complete else "; more pages remain for the next pull"
        return (
            f"pull {self.source}: {self.pages} pages, {self.extracts_saved} extracts, "
            f"{self.files_downloaded} files downloaded ({self.bytes_downloaded} bytes), "
            f"{self.files_already_present} already present, {self.files_replaced} replaced{more}"
        )

    def as_record(self) -> dict[str, Any]:
        """JSON-able, for the DAG's XCom (the cursor is left out: it means nothing to people)."""
        record = asdict(self)
        record.pop("cursor")
        return record


def pull_extracts(
    base_url: str,
    token: str,
    landing: Path,
    source: str,
    *,
    page_size: int = 100,
    max_pages: int = 10_000,
    max_retries: int = 5,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    max_retry_after: float = 300.0,
    timeout: float = 60.0,
    request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    run_deadline: float = DEFAULT_RUN_DEADLINE,
    max_listing_bytes: int = DEFAULT_MAX_LISTING_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] = log.info,
) -> PullSummary:
    """Pull every extract the feed at `base_url` has after this source's committed cursor.

    Files land in `landing/<source>/<urn>/<stamp>/<name>`. Raises PullFailed when the feed
    refuses, keeps failing after `max_retries` retries of one request, passes a limit
    (`run_deadline` seconds in all, `request_deadline` for one answer, `max_listing_bytes`
    for a listing page, `max_file_bytes` for a file); what was committed before stays
    committed.
    """
    deadline = Deadline(run_deadline)  # from the start: the whole call is bounded
    base_url = checked_base_url(base_url)
    check_token(token)
    Limits(request_deadline, run_deadline, max_listing_bytes, max_file_bytes).check()
    if not _SOURCE.fullmatch(source):
        raise ValueError(
            f"source {source!r} must be lower-case letters, digits, '-' or '_' (it names the "
            "landing sub-folder and the pull's state file)"
        )
    if not 1 <= page_size <= 500:
        raise ValueError("page_size must be from 1 to 500")
    policy = RetryPolicy(max_retries, backoff, max_backoff, max_retry_after)
    client = Client(base_url, token, policy, timeout, request_deadline, deadline, sleep, progress)
    landing = Path(landing)
    target = landing / source
    summary = PullSummary(source)
    committed = 0
    with exclusive(landing, source):
        remove_partials(target)
        cursor = read_cursor(landing, source)
        summary.cursor = cursor
        progress(f"pull {source}: from {base_url}, " + ("resuming" if cursor else "from the start"))
        try:
            for _ in range(max_pages):
                page = get_page(client, cursor, page_size, max_listing_bytes)
                for extract in page.extracts:
                    for feed_file in extract.files:
                        folder = target / extract.urn / extract.stamp
                        save_file(client, feed_file, folder, max_file_bytes, summary, progress)
                    summary.extracts_saved += 1
                summary.pages += 1
                if page.next_cursor is not None and page.next_cursor != cursor:
                    commit_cursor(landing, source, page.next_cursor, base_url)
                    cursor = summary.cursor = page.next_cursor
                    committed = summary.extracts_saved
                elif page.has_more:
                    # Asking again with the same cursor would loop: stop and say so.
                    raise RequestFailed(
                        listing_url(base_url, cursor, page_size),
                        Failure("the feed said more pages follow but gave no new cursor"),
                        1,
                    )
                if not page.has_more:
                    break
            else:
                summary.complete = False
        except RequestFailed as failed:
            failure = failed.failure
            tries = f" after {failed.attempts} attempts" if failed.attempts > 1 else ""
            raise PullFailed(
                failure.reason + tries,
                url=failed.url,
                status=failure.status,
                extracts_saved=summary.extracts_saved,
                extracts_committed=committed,
            ) from None
    progress(summary.describe())
    return summary


def pull_from_environment(
    landing: Path,
    environ: Mapping[str, str] = os.environ,
    **options: Any,
) -> PullSummary | None:
    """The DAG's pull step: ATTENDANCE_FEED_URL, ATTENDANCE_FEED_TOKEN and (optionally)
    ATTENDANCE_FEED_SOURCE and the limits of config.py. Without a URL there is nothing to
    pull and it returns None. `options` go to `pull_extracts`, over the environment's."""
    base_url = environ.get(URL_ENV, "").strip()
    if not base_url:
        return None
    token = environ.get(TOKEN_ENV, "")
    if not token:
        raise PullFailed(f"{URL_ENV} is set but {TOKEN_ENV} is empty; set the feed's token")
    source = environ.get(SOURCE_ENV, "").strip() or DEFAULT_SOURCE
    limits = asdict(Limits.from_environment(environ))
    return pull_extracts(base_url, token, landing, source, **(limits | options))


def save_file(
    client: Client,
    feed_file: FeedFile,
    folder: Path,
    max_file_bytes: int,
    summary: PullSummary,
    progress: Callable[[str], None],
) -> None:
    """Put one file in place, unless it already is (a page cut short by a failure)."""
    destination = folder / feed_file.name
    existing = sha256_of(destination) if destination.is_file() else None
    if existing == feed_file.sha256:
        summary.files_already_present += 1
        return
    make_folders(folder)

    def handle(response: http.client.HTTPResponse) -> int:
        declared = declared_size(response)
        if declared is not None and declared > max_file_bytes:
            raise too_large(feed_file.name, max_file_bytes)
        return write_checked(response, destination, feed_file.sha256, max_file_bytes)

    size = client.get(feed_file.url, handle)
    summary.files_downloaded += 1
    summary.bytes_downloaded += size
    if existing is not None:
        # The feed re-issued an extract with other bytes. The ingester reads the new bytes as
        # a new file (same path, new sha256); what it stored from the old ones stays.
        summary.files_replaced += 1
        progress(f"pull: {destination} changed at the feed and was replaced")
