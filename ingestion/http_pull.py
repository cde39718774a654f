"""Pull register extracts from a school-MIS-style HTTP feed into the landing folder.

The feed lists extracts a page at a time, oldest first, behind an opaque cursor (the API is in
docs/http-pull.md; `ingestion.feed_server` is a reference implementation). Each extract's
files land as `landing/<source>/<urn>/<stamp>/<name>`, where the ingester finds them like any
other delivered file.

Why it is shaped this way:
- A file is written under a hidden temporary name, checked against the sha256 the feed
  listed, flushed to disk and only then renamed into place: the ingester never sees a partial
  or damaged file, whenever it runs.
- The cursor is committed (`landing/.pull-state/<source>.json`, replaced atomically) only
  after every file of a page is on disk. A pull that fails resumes at the first page not
  committed; files of that page already on disk with the right checksum are not fetched again.
- 429, 5xx, dropped connections and checksum mismatches are retried with exponential
  back-off (or the server's Retry-After), a bounded number of times; then `PullFailed` says
  what failed and what was kept. 401/403/404 and other 4xx are not retried: retrying cannot
  fix them.
- The token goes only in the Authorization header, only to the base URL's own origin
  (redirects are refused), and never into a log line or an error message.
"""

import contextlib
import fcntl
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, OpenerDirector, ProxyHandler, Request, build_opener

from ingestion.feed import kind_of

log = logging.getLogger(__name__)

# The DAG's configuration (see docs/http-pull.md): no URL, no pull.
URL_ENV = "ATTENDANCE_FEED_URL"
TOKEN_ENV = "ATTENDANCE_FEED_TOKEN"
SOURCE_ENV = "ATTENDANCE_FEED_SOURCE"
DEFAULT_SOURCE = "mis"

STATE_FOLDER = ".pull-state"
PARTIAL_SUFFIX = ".partial"
_CHUNK = 1 << 16

_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_URN = re.compile(r"\d{6}")
# A single, harmless path segment: no separators, cannot be "." or "..", not hidden.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PullFailed(Exception):
    """The pull stopped. Everything committed before it stays; the next pull resumes there."""

    def __init__(
        self,
        reason: str,
        *,
        url: str | None = None,
        status: int | None = None,
        extracts_saved: int = 0,
        extracts_committed: int = 0,
    ) -> None:
        self.reason = reason
        self.url = url
        self.status = status
        self.extracts_saved = extracts_saved
        self.extracts_committed = extracts_committed
        super().__init__(self._message())

    def _message(self) -> str:
        if self.url is None:
            # Refused before any request: configuration or local state to fix.
            return f"pull from the feed failed: {self.reason}"
        saved = (
            "1 extract was" if self.extracts_saved == 1 else f"{self.extracts_saved} extracts were"
        )
        return (
            f"pull from the feed failed (GET {self.url}): {self.reason}. "
            f"{saved} saved by this pull before the failure "
            f"({self.extracts_committed} in committed pages); "
            "the next pull resumes after the last committed page"
        )


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


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5  # retries after the first attempt, for each request
    backoff: float = 1.0  # first wait in seconds; doubled on each retry
    max_backoff: float = 60.0
    # The longest Retry-After this pull will sit through; a longer one fails the pull now.
    max_retry_after: float = 300.0


@dataclass(frozen=True)
class _FeedFile:
    name: str
    sha256: str
    url: str


@dataclass(frozen=True)
class _FeedExtract:
    urn: str
    stamp: str
    files: tuple[_FeedFile, ...]


@dataclass(frozen=True)
class _Page:
    extracts: tuple[_FeedExtract, ...]
    next_cursor: str | None
    has_more: bool


class _Failure(Exception):
    """One request failed; `retryable` says whether trying again might help."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class _RequestFailed(Exception):
    def __init__(self, url: str, failure: _Failure, attempts: int) -> None:
        self.url = url
        self.failure = failure
        self.attempts = attempts


@dataclass
class _Client:
    """Authenticated GETs against one feed, with retries."""

    base_url: str
    token: str
    policy: RetryPolicy
    timeout: float
    sleep: Callable[[float], None]
    progress: Callable[[str], None]
    opener: OpenerDirector = field(init=False)

    def __post_init__(self) -> None:
        handlers: list = [_NoRedirects()]
        if _is_loopback(urlsplit(self.base_url).hostname or ""):
            # Never send a loopback request (and its token) through a proxy from the env.
            handlers.append(ProxyHandler({}))
        self.opener = build_opener(*handlers)

    def url_for(self, href: str) -> str:
        """An href from the feed, made absolute; it must stay on the base URL's origin, since
        the token goes with every request."""
        url = urljoin(self.base_url + "/", href)
        if _origin(url) != _origin(self.base_url):
            raise _Failure(f"the feed listed a file at another address ({_origin(url)})")
        return url

    def get(self, url: str, handle: Callable[[http.client.HTTPResponse], Any]) -> Any:
        """GET `url` and return `handle(response)`, retrying what may pass."""
        attempts = self.policy.max_retries + 1
        for attempt in range(attempts):
            try:
                request = Request(url, headers={"Authorization": f"Bearer {self.token}"})
                with self.opener.open(request, timeout=self.timeout) as response:
                    return handle(response)
            except _Failure as failure:
                problem = failure
            except HTTPError as error:
                with contextlib.closing(error):
                    problem = _http_failure(error)
            except (URLError, OSError, http.client.HTTPException) as error:
                problem = _Failure(_connection_problem(error), retryable=True)
            if not problem.retryable or attempt == attempts - 1:
                raise _RequestFailed(url, problem, attempt + 1)
            wait = self._wait(problem, attempt)
            if wait is None:
                raise _RequestFailed(url, self._too_long(problem), attempt + 1)
            self.progress(
                f"pull: {problem.reason} for {_path_of(url)}; retry {attempt + 1} of "
                f"{self.policy.max_retries} in {wait:g} s"
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _wait(self, problem: _Failure, attempt: int) -> float | None:
        """Seconds to wait before the next try; None if the feed asks for too long a wait."""
        if problem.retry_after is not None:
            if problem.retry_after > self.policy.max_retry_after:
                return None
            return problem.retry_after
        return min(self.policy.backoff * 2**attempt, self.policy.max_backoff)

    def _too_long(self, problem: _Failure) -> _Failure:
        return _Failure(
            f"{problem.reason}, and the feed asked to wait {problem.retry_after:g} s before "
            f"trying again, longer than this pull waits ({self.policy.max_retry_after:g} s); "
            "run the pull again later",
            status=problem.status,
        )


class _NoRedirects(HTTPRedirectHandler):
    """Refuse redirects: urllib would carry the Authorization header to wherever they point."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


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
    max_file_bytes: int = 2 << 30,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] = log.info,
) -> PullSummary:
    """Pull every extract the feed at `base_url` has after this source's committed cursor.

    Files land in `landing/<source>/<urn>/<stamp>/<name>`. Raises PullFailed when the feed
    refuses, or keeps failing after `max_retries` retries of one request; what was committed
    before stays committed.
    """
    base_url = _checked_base_url(base_url)
    _check_token(token)
    if not _SOURCE.fullmatch(source):
        raise ValueError(
            f"source {source!r} must be lower-case letters, digits, '-' or '_' (it names the "
            "landing sub-folder and the pull's state file)"
        )
    if not 1 <= page_size <= 500:
        raise ValueError("page_size must be from 1 to 500")
    policy = RetryPolicy(max_retries, backoff, max_backoff, max_retry_after)
    client = _Client(base_url, token, policy, timeout, sleep, progress)
    landing = Path(landing)
    target = landing / source
    summary = PullSummary(source)
    committed = 0
    with _exclusive(landing, source):
        _remove_partials(target)
        cursor = read_cursor(landing, source)
        summary.cursor = cursor
        progress(f"pull {source}: from {base_url}, " + ("resuming" if cursor else "from the start"))
        try:
            for _ in range(max_pages):
                page = _get_page(client, cursor, page_size)
                for extract in page.extracts:
                    for feed_file in extract.files:
                        folder = target / extract.urn / extract.stamp
                        _save(client, feed_file, folder, max_file_bytes, summary, progress)
                    summary.extracts_saved += 1
                summary.pages += 1
                if page.next_cursor is not None and page.next_cursor != cursor:
                    _commit(landing, source, page.next_cursor, base_url)
                    cursor = summary.cursor = page.next_cursor
                    committed = summary.extracts_saved
                elif page.has_more:
                    # Asking again with the same cursor would loop: stop and say so.
                    raise _RequestFailed(
                        _listing_url(base_url, cursor, page_size),
                        _Failure("the feed said more pages follow but gave no new cursor"),
                        1,
                    )
                if not page.has_more:
                    break
            else:
                summary.complete = False
        except _RequestFailed as failed:
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
    ATTENDANCE_FEED_SOURCE. Without a URL there is nothing to pull and it returns None."""
    base_url = environ.get(URL_ENV, "").strip()
    if not base_url:
        return None
    token = environ.get(TOKEN_ENV, "")
    if not token:
        raise PullFailed(f"{URL_ENV} is set but {TOKEN_ENV} is empty; set the feed's token")
    source = environ.get(SOURCE_ENV, "").strip() or DEFAULT_SOURCE
    return pull_extracts(base_url, token, landing, source, **options)


def state_path(landing: Path, source: str) -> Path:
    return Path(landing) / STATE_FOLDER / f"{source}.json"


def read_cursor(landing: Path, source: str) -> str | None:
    """The cursor committed by the last page pulled for `source`, None before the first."""
    path = state_path(landing, source)
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        cursor = state["cursor"]
    except (ValueError, KeyError, TypeError) as error:
        raise PullFailed(
            f"the pull's state file {path} is damaged ({error}); delete it to pull everything "
            "the feed has again (files already landed are not ingested twice)"
        ) from None
    if cursor is not None and not isinstance(cursor, str):
        raise PullFailed(f"the pull's state file {path} holds no valid cursor; delete it")
    return cursor


# -- pages -------------------------------------------------------------------------------------


def _listing_url(base_url: str, cursor: str | None, page_size: int) -> str:
    query = {"limit": str(page_size)} | ({"cursor": cursor} if cursor else {})
    return f"{base_url}/v1/extracts?{urlencode(query)}"


def _get_page(client: _Client, cursor: str | None, page_size: int) -> _Page:
    url = _listing_url(client.base_url, cursor, page_size)

    def handle(response: http.client.HTTPResponse) -> _Page:
        try:
            body = json.loads(response.read())
        except ValueError as error:
            # A cut-off answer reads as broken JSON: worth another try.
            raise _Failure(f"the feed's listing is not JSON ({error})", retryable=True) from None
        return _parse_page(client, body)

    return client.get(url, handle)


def _parse_page(client: _Client, body: Any) -> _Page:
    """The listing, checked: every name the feed gives becomes a path on our disk."""

    def bad(what: str) -> _Failure:
        return _Failure(f"the feed's listing is not as documented: {what}")

    if not isinstance(body, dict) or not isinstance(body.get("extracts"), list):
        raise bad("no 'extracts' list")
    next_cursor = body.get("next_cursor")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise bad("'next_cursor' is not text")
    has_more = body.get("has_more", next_cursor is not None)
    if not isinstance(has_more, bool):
        raise bad("'has_more' is not true or false")
    extracts = []
    for item in body["extracts"]:
        if not isinstance(item, dict) or not isinstance(item.get("files"), list):
            raise bad("an extract without a 'files' list")
        urn, stamp = item.get("urn"), item.get("stamp")
        if not (isinstance(urn, str) and _URN.fullmatch(urn)):
            raise bad(f"URN {str(urn)[:20]!r} is not 6 digits")
        if not (isinstance(stamp, str) and _SEGMENT.fullmatch(stamp)):
            raise bad(f"extract stamp {str(stamp)[:40]!r} is not a plain folder name")
        files = []
        for entry in item["files"]:
            if not isinstance(entry, dict):
                raise bad("a file entry is not an object")
            name, sha256, href = entry.get("name"), entry.get("sha256"), entry.get("href")
            if not (isinstance(name, str) and _SEGMENT.fullmatch(name) and kind_of(name)):
                raise bad(f"file name {str(name)[:40]!r} is not a FEED_SPEC file name")
            if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256.lower())):
                raise bad(f"file {name} has no sha256")
            if not isinstance(href, str):
                raise bad(f"file {name} has no href")
            files.append(_FeedFile(name, sha256.lower(), client.url_for(href)))
        extracts.append(_FeedExtract(urn, stamp, tuple(files)))
    return _Page(tuple(extracts), next_cursor, has_more)


# -- files -------------------------------------------------------------------------------------


def _save(
    client: _Client,
    feed_file: _FeedFile,
    folder: Path,
    max_file_bytes: int,
    summary: PullSummary,
    progress: Callable[[str], None],
) -> None:
    """Put one file in place, unless it already is (a page cut short by a failure)."""
    destination = folder / feed_file.name
    existing = _sha256_of(destination) if destination.is_file() else None
    if existing == feed_file.sha256:
        summary.files_already_present += 1
        return
    folder.mkdir(parents=True, exist_ok=True)

    def handle(response: http.client.HTTPResponse) -> int:
        return _write_checked(response, destination, feed_file.sha256, max_file_bytes)

    size = client.get(feed_file.url, handle)
    summary.files_downloaded += 1
    summary.bytes_downloaded += size
    if existing is not None:
        # The feed re-issued an extract with other bytes. The ingester reads the new bytes as
        # a new file (same path, new sha256); what it stored from the old ones stays.
        summary.files_replaced += 1
        progress(f"pull: {destination} changed at the feed and was replaced")


def _write_checked(response: BinaryIO, destination: Path, sha256: str, max_bytes: int) -> int:
    """Stream to a hidden temporary file, check size and sha256, flush, rename into place."""
    partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("xb") as out:
            # Every read that is not the last returns at least a byte: bounded.
            for _ in range(max_bytes + 2):
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise _Failure(f"{destination.name} is larger than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise _Failure(
                f"{destination.name} arrived damaged (its sha256 does not match the listing)",
                retryable=True,
            )
        os.replace(partial, destination)
        _fsync_folder(destination.parent)
        return size
    finally:
        partial.unlink(missing_ok=True)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remove_partials(folder: Path) -> None:
    """Temporary files left by a pull that was killed outright (the lock says none is running)."""
    if folder.is_dir():
        for leftover in folder.rglob(f".*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)


# -- state -------------------------------------------------------------------------------------


def _commit(landing: Path, source: str, cursor: str, base_url: str) -> None:
    """Replace the state file in one step: a crash leaves the old cursor or the new one."""
    path = state_path(landing, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "source": source,
        "cursor": cursor,
        "feed": base_url,
        "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")
    try:
        with temporary.open("x", encoding="utf-8") as out:
            json.dump(state, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        _fsync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(landing: Path, source: str) -> Iterator[None]:
    """One pull per source at a time: two would race on the same cursor and files."""
    lock_path = state_path(landing, source).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PullFailed(
                f"another pull for source {source!r} is running (it holds {lock_path})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# -- checks and messages -----------------------------------------------------------------------


def _checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the feed URL {base_url!r} must start with https:// (or http://)")
    if parts.username or parts.password:
        raise ValueError("the feed URL must not hold credentials; the token is passed on its own")
    if parts.query or parts.fragment:
        raise ValueError("the feed URL must not have a query or fragment")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"the feed URL uses plain http to {parts.hostname}: the token would cross the "
            "network unencrypted; use https"
        )
    return base_url.strip().rstrip("/")


def _check_token(token: str) -> None:
    # Never echo the token: say what is wrong with it, not what it is.
    if not token:
        raise ValueError("the feed token is empty")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise ValueError("the feed token has spaces or control characters (a stray newline?)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _path_of(url: str) -> str:
    return urlsplit(url).path


def _http_failure(error: HTTPError) -> _Failure:
    status = error.code
    named = f"the feed answered {status} {error.reason}"
    if status in (401, 403):
        return _Failure(
            f"{named}: the feed rejected the token; check {TOKEN_ENV} (it may have expired "
            "or been revoked)",
            status=status,
        )
    if status == 404:
        return _Failure(
            f"{named}: check the feed URL; a file listed a moment ago may have been withdrawn",
            status=status,
        )
    if 300 <= status < 400:
        return _Failure(
            f"{named} (a redirect): set the feed URL to the address it redirects to",
            status=status,
        )
    if status == 429 or status >= 500:
        return _Failure(
            named, status=status, retryable=True, retry_after=_retry_after(error.headers)
        )
    return _Failure(f"{named}: {_error_text(error)}", status=status)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date."""
    value = (headers or {}).get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_text(error: HTTPError) -> str:
    """The feed's own explanation, short: only its 'error' field, never the whole body."""
    try:
        body = json.loads(error.read(4096))
        text = str(body.get("error", "")) if isinstance(body, dict) else ""
    except (ValueError, OSError, http.client.HTTPException):
        text = ""
    return text[:200] or "no explanation given"


def _connection_problem(error: BaseException) -> str:
    reason = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the feed closed the connection without answering"
    if isinstance(reason, http.client.IncompleteRead):
        return "the feed's answer was cut short"
    if isinstance(reason, TimeoutError):
        return "the feed did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "nothing is listening at the feed's address"
    return f"could not reach the feed ({type(reason).__name__})"
