"""Authenticated GETs against one feed, with retries, and what each failure means.

The token goes only in the Authorization header, only to the base URL's own origin
(redirects are refused), and never into a log line or an error message. Each request's
whole answer has a deadline, and so has the whole pull (deadline.py): a feed that stalls
or answers a byte at a time costs at most those, never the rest of the morning.
"""

import contextlib
import http.client
import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, OpenerDirector, ProxyHandler, Request, build_opener

from ingestion.http_pull.config import REQUEST_DEADLINE_ENV, RUN_DEADLINE_ENV, TOKEN_ENV
from ingestion.http_pull.deadline import (
    Deadline,
    Watchdog,
    WatchedHTTPHandler,
    WatchedHTTPSHandler,
)
from ingestion.http_pull.errors import Failure, RequestFailed


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5  # retries after the first attempt, for each request
    backoff: float = 1.0  # first wait in seconds; doubled on each retry
    max_backoff: float = 60.0
    # The longest Retry-After this pull will sit through; a longer one fails the pull now.
    max_retry_after: float = 300.0


@dataclass
class Client:
    """Authenticated GETs against one feed, with retries, within deadlines."""

    base_url: str
    token: str
    policy: RetryPolicy
    timeout: float  # for each wait on the socket; the deadlines bound the whole
    request_deadline: float  # seconds for one attempt's whole answer, body included
    run_deadline: Deadline  # the whole pull's: retries and their waits included
    sleep: Callable[[float], None]
    progress: Callable[[str], None]
    loopback: bool = field(init=False)

    def __post_init__(self) -> None:
        self.loopback = is_loopback(urlsplit(self.base_url).hostname or "")

    def _opener(self, watchdog: Watchdog) -> OpenerDirector:
        handlers: list = [
            NoRedirects(),
            WatchedHTTPHandler(watchdog),
            WatchedHTTPSHandler(watchdog),
        ]
        if self.loopback:
            # Never send a loopback request (and its token) through a proxy from the env.
            handlers.append(ProxyHandler({}))
        return build_opener(*handlers)

    def url_for(self, href: str) -> str:
        """An href from the feed, made absolute; it must stay on the base URL's origin, since
        the token goes with every request."""
        url = urljoin(self.base_url + "/", href)
        if origin(url) != origin(self.base_url):
            raise Failure(f"the feed listed a file at another address ({origin(url)})")
        return url

    def get(self, url: str, handle: Callable[[http.client.HTTPResponse], Any]) -> Any:
        """GET `url` and return `handle(response)`, retrying what may pass.

        `handle` reads the body within the request's deadline: when the deadline passes the
        connection is shut down under it, and the failure names the deadline."""
        attempts = self.policy.max_retries + 1
        for attempt in range(attempts):
            left = self.run_deadline.remaining()
            if left <= 0:
                raise RequestFailed(url, self._run_out(url), attempt)
            budget = min(self.request_deadline, left)
            with Watchdog(budget) as watchdog:
                try:
                    request = Request(url, headers={"Authorization": f"Bearer {self.token}"})
                    opener = self._opener(watchdog)
                    with opener.open(request, timeout=min(self.timeout, budget)) as response:
                        return handle(response)
                except Failure as failure:
                    problem = failure
                except HTTPError as error:
                    # Its body is read here, under the watchdog too.
                    with contextlib.closing(error):
                        problem = http_failure(error)
                except (URLError, OSError, http.client.HTTPException) as error:
                    problem = Failure(connection_problem(error), retryable=True)
            if watchdog.fired:
                # What failed is the deadline, whatever the cut connection looked like.
                ran_out = budget < self.request_deadline
                problem = self._run_out(url) if ran_out else self._too_slow(url)
            if not problem.retryable or attempt == attempts - 1:
                raise RequestFailed(url, problem, attempt + 1)
            wait = self._wait(problem, attempt)
            if wait is None:
                raise RequestFailed(url, self._too_long(problem), attempt + 1)
            if wait >= self.run_deadline.remaining():
                raise RequestFailed(url, self._no_time_to_wait(problem, wait), attempt + 1)
            self.progress(
                f"pull: {problem.reason} for {path_of(url)}; retry {attempt + 1} of "
                f"{self.policy.max_retries} in {wait:g} s"
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _wait(self, problem: Failure, attempt: int) -> float | None:
        """Seconds to wait before the next try; None if the feed asks for too long a wait."""
        if problem.retry_after is not None:
            if problem.retry_after > self.policy.max_retry_after:
                return None
            return problem.retry_after
        return min(self.policy.backoff * 2**attempt, self.policy.max_backoff)

    # The pull appends "after N attempts" to these: each ends with what happened.
    def _too_slow(self, url: str) -> Failure:
        return Failure(
            f"the feed is stalled or far too slow: its answer to {path_of(url)} did not "
            f"arrive whole within the request deadline of {self.request_deadline:g} s "
            f"({REQUEST_DEADLINE_ENV})",
            retryable=True,
        )

    def _run_out(self, url: str) -> Failure:
        return Failure(
            f"the pull's run deadline of {self.run_deadline.seconds:g} s ({RUN_DEADLINE_ENV}; "
            f"raise it if the feed is slow but working) passed while it asked for {path_of(url)}"
        )

    def _no_time_to_wait(self, problem: Failure, wait: float) -> Failure:
        return Failure(
            f"{problem.reason}; the next try would wait {wait:g} s, past the pull's run "
            f"deadline of {self.run_deadline.seconds:g} s ({RUN_DEADLINE_ENV}), so it stopped",
            status=problem.status,
        )

    def _too_long(self, problem: Failure) -> Failure:
        return Failure(
            f"{problem.reason}, and the feed asked to wait {problem.retry_after:g} s before "
            f"trying again, longer than this pull waits ({self.policy.max_retry_after:g} s); "
            "run the pull again later",
            status=problem.status,
        )


class NoRedirects(HTTPRedirectHandler):
    """Refuse redirects: urllib would carry the Authorization header to wherever they point."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the feed URL {base_url!r} must start with https:// (or http://)")
    if parts.username or parts.password:
        raise ValueError("the feed URL must not hold credentials; the token is passed on its own")
    if parts.query or parts.fragment:
        raise ValueError("the feed URL must not have a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"the feed URL uses plain http to {parts.hostname}: the token would cross the "
            "network unencrypted; use https"
        )
    return base_url.strip().rstrip("/")


def check_token(token: str) -> None:
    # Never echo the token: say what is wrong with it, not what it is.
    if not token:
        raise ValueError("the feed token is empty")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise ValueError("the feed token has spaces or control characters (a stray newline?)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def path_of(url: str) -> str:
    return urlsplit(url).path


def http_failure(error: HTTPError) -> Failure:
    status = error.code
    named = f"the feed answered {status} {error.reason}"
    if status in (401, 403):
        return Failure(
            f"{named}: the feed rejected the token; check {TOKEN_ENV} (it may have expired "
            "or been revoked)",
            status=status,
        )
    if status == 404:
        return Failure(
            f"{named}: check the feed URL; a file listed a moment ago may have been withdrawn",
            status=status,
        )
    if 300 <= status < 400:
        return Failure(
            f"{named} (a redirect): set the feed URL to the address it redirects to",
            status=status,
        )
    if status == 429 or status >= 500:
        return Failure(
            named, status=status, retryable=True, retry_after=_retry_after(error.headers)
        )
    return Failure(f"{named}: {_error_text(error)}", status=status)


def declared_size(response: http.client.HTTPResponse) -> int | None:
    """The answer's Content-Length, when it gives one: a size to refuse before reading."""
    value = (response.getheader("Content-Length") or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


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


def connection_problem(error: BaseException) -> str:
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
