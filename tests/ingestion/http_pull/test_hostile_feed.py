"""The pull against a broken or hostile feed: bounded in time, in memory and on disk.

Real servers on 127.0.0.1: the reference feed with its faults, and small hand-written servers
for what the reference feed cannot be made to do. The limits are set as a deployment sets
them, through the environment (docs/http-pull.md), and tiny, so each test takes seconds.
"""

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingestion.http_pull import PullFailed, pull_from_environment, read_cursor
from ingestion.http_pull.config import (
    MAX_FILE_BYTES_ENV,
    MAX_LISTING_BYTES_ENV,
    REQUEST_DEADLINE_ENV,
    RUN_DEADLINE_ENV,
    Limits,
)
from synthetic import SyntheticLA
from synthetic.mis_feed import Faults, FeedServer
from tests.support.extracts import deliver
from warehouse.project import PROJECT_ROOT

TOKEN = "s3cret-feed-token-0123456789"
SOURCE = "mis"
MIB = 1 << 20


@pytest.fixture(scope="module")
def served(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One day of the feed: 4 schools' extracts, 12 files. Read only."""
    root = tmp_path_factory.mktemp("feed")
    deliver(tiny_la, root, range(1))
    return root


def _environment(url: str, **settings: str) -> dict[str, str]:
    return {
        "ATTENDANCE_FEED_URL": url,
        "ATTENDANCE_FEED_TOKEN": TOKEN,
        "ATTENDANCE_FEED_SOURCE": SOURCE,
        **{f"ATTENDANCE_FEED_{name.upper()}": value for name, value in settings.items()},
    }


def _visible_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".pull-state" not in p.parts]


class Hostile:
    """A hand-written feed on 127.0.0.1: `answer(handler)` answers every GET."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.paths: list[str] = []
        self.bytes_sent = 0
        recorded = self.paths

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                recorded.append(self.path)
                with contextlib.suppress(OSError):  # the client hung up: what we test for
                    answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.handler = Handler

    def send(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        handler.wfile.write(data)
        self.bytes_sent += len(data)

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        with ThreadingHTTPServer(("127.0.0.1", 0), self.handler) as httpd:
            httpd.daemon_threads = True
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            try:
                yield f"http://127.0.0.1:{httpd.server_address[1]}"
            finally:
                httpd.shutdown()


def _listing(urn: str = "100001", sha256: str = "0" * 64) -> bytes:
    extract = {
        "id": f"{urn}_s",
        "urn": urn,
        "stamp": "2025-09-15T16-05-00Z",
        "files": [{"name": "marks.csv", "sha256": sha256, "href": f"/v1/extracts/{urn}_s/files/m"}],
    }
    return json.dumps({"extracts": [extract], "next_cursor": "c", "has_more": False}).encode()


# -- 1. deadlines: a feed that answers a byte at a time ----------------------------------------


def test_a_stalled_answer_is_cut_at_the_request_deadline_and_tried_again(
    served: Path, tmp_path: Path
) -> None:
    sleeps: list[float] = []
    # Request 2 (the first file) comes a byte every 50 ms: each socket read gets its byte in
    # time, so only a deadline on the whole answer stops it.
    faults = Faults(trickle_on={2}, trickle_interval=0.05)
    started = time.monotonic()
    with FeedServer(served, TOKEN, faults=faults) as feed:
        summary = pull_from_environment(
            tmp_path / "landing",
            _environment(feed.url, request_deadline="0.5"),
            sleep=sleeps.append,
            backoff=0.25,
        )
    assert time.monotonic() - started < 5
    assert sleeps == [0.25]  # cut once, then fetched whole
    assert summary.files_downloaded == 12
    assert not list((tmp_path / "landing").rglob("*.partial"))


def test_a_feed_that_always_trickles_fails_at_the_request_deadline(
    served: Path, tmp_path: Path
) -> None:
    sleeps: list[float] = []
    faults = Faults(trickle_on=range(1, 100), trickle_interval=0.05)
    started = time.monotonic()
    with FeedServer(served, TOKEN, faults=faults) as feed:
        with pytest.raises(PullFailed) as failed:
            pull_from_environment(
                tmp_path / "landing",
                _environment(feed.url, request_deadline="0.4"),
                sleep=sleeps.append,
                max_retries=2,
            )
        assert len(feed.requests) == 3  # a deadline passed is retried like a time-out
    assert time.monotonic() - started < 5
    message = str(failed.value)
    assert "/v1/extracts" in message
    assert "deadline of 0.4 s" in message and "ATTENDANCE_FEED_REQUEST_DEADLINE" in message
    assert "after 3 attempts" in message and TOKEN not in message
    assert read_cursor(tmp_path / "landing", SOURCE) is None


def test_the_request_deadline_covers_headers_sent_a_byte_at_a_time(tmp_path: Path) -> None:
    def trickle_headers(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.0 200 OK\r\nX-Padding: ")
        for _ in range(400):  # 20 s at most, then the thread ends
            handler.wfile.write(b"x")
            time.sleep(0.05)

    started = time.monotonic()
    with Hostile(trickle_headers).running() as url:
        with pytest.raises(PullFailed, match=r"request deadline of 0\.5 s"):
            pull_from_environment(
                tmp_path / "landing",
                _environment(url, request_deadline="0.5"),
                sleep=lambda _: None,
                max_retries=0,
            )
    assert time.monotonic() - started < 5


def test_the_run_deadline_bounds_the_whole_pull(served: Path, tmp_path: Path) -> None:
    # Each answer would arrive within the request deadline; the pull as a whole would not.
    faults = Faults(trickle_on=range(1, 100), trickle_interval=0.01)
    started = time.monotonic()
    with FeedServer(served, TOKEN, faults=faults) as feed:
        url = feed.url
        with pytest.raises(PullFailed) as failed:
            pull_from_environment(
                tmp_path / "landing",
                _environment(url, request_deadline="30", run_deadline="1"),
                sleep=lambda _: None,
            )
    assert time.monotonic() - started < 6
    message = str(failed.value)
    assert "run deadline of 1 s" in message and "ATTENDANCE_FEED_RUN_DEADLINE" in message
    assert f"GET {url}/v1/extracts" in message and TOKEN not in message
    assert "attempts" not in message  # not retried: the time is up


@pytest.mark.parametrize("fault", ["503", "429"])
def test_a_retry_that_would_wait_past_the_run_deadline_fails_now(
    served: Path, tmp_path: Path, fault: str
) -> None:
    sleeps: list[float] = []
    if fault == "503":
        faults = Faults(unavailable_on=range(1, 100))
    else:
        faults = Faults(too_many_requests_on=range(1, 100), retry_after=20)
    with FeedServer(served, TOKEN, faults=faults) as feed:
        with pytest.raises(PullFailed, match="ATTENDANCE_FEED_RUN_DEADLINE") as failed:
            pull_from_environment(
                tmp_path / "landing",
                _environment(feed.url, run_deadline="10"),
                sleep=sleeps.append,
                backoff=4,
            )
        asked = len(feed.requests)
    # 503: waits of 4 and 8 s fit in what is left of 10 s (the sleeps here take no time),
    # 16 s does not. 429: a Retry-After of 20 s never fits.
    assert sleeps == ([4, 8] if fault == "503" else [])
    assert asked == len(sleeps) + 1
    assert f"the feed answered {fault}" in str(failed.value)


# -- 2. sizes: a listing or a file larger than any real one ------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_an_oversized_listing_is_refused_while_it_streams(tmp_path: Path, declared: bool) -> None:
    total = 64 * MIB  # valid JSON: a listing padded with spaces
    head, tail = b'{"extracts": [], "has_more": false', b"}"

    def huge_listing(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        if declared:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()
        hostile.send(handler, head)
        padding = total - len(head) - len(tail)
        for start in range(0, padding, MIB):
            hostile.send(handler, b" " * min(MIB, padding - start))
        hostile.send(handler, tail)

    hostile = Hostile(huge_listing)
    with hostile.running() as url:
        with pytest.raises(PullFailed) as failed:
            pull_from_environment(
                tmp_path / "landing",
                _environment(url, max_listing_bytes=str(MIB)),
                sleep=lambda _: None,
            )
    message = str(failed.value)
    assert f"larger than {MIB} bytes" in message and "ATTENDANCE_FEED_MAX_LISTING_BYTES" in message
    assert len(hostile.paths) == 1  # not retried: the same listing would come again
    # It stopped reading: most of the listing was never sent (loopback buffers hold a few MiB).
    assert hostile.bytes_sent < total // 2


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_an_oversized_file_is_refused_while_it_streams_and_nothing_of_it_is_kept(
    tmp_path: Path, declared: bool
) -> None:
    total = 64 * MIB
    # The listing gives the true sha256: only the size is wrong.
    digest = hashlib.sha256(b"\0" * total).hexdigest()

    def huge_file(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        if handler.path.startswith("/v1/extracts?"):
            handler.end_headers()
            hostile.send(handler, _listing(sha256=digest))
            return
        if declared:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()
        for _ in range(total // MIB):
            hostile.send(handler, b"\0" * MIB)

    hostile = Hostile(huge_file)
    landing = tmp_path / "landing"
    with hostile.running() as url:
        with pytest.raises(PullFailed) as failed:
            pull_from_environment(
                landing, _environment(url, max_file_bytes=str(MIB)), sleep=lambda _: None
            )
    message = str(failed.value)
    assert f"marks.csv is larger than {MIB} bytes" in message
    assert "ATTENDANCE_FEED_MAX_FILE_BYTES" in message
    assert len(hostile.paths) == 2  # the listing, the file once: not retried
    assert hostile.bytes_sent < total // 2
    assert _visible_files(landing) == [] and not list(landing.rglob("*.partial"))
    assert read_cursor(landing, SOURCE) is None  # the page was never committed


def test_the_file_limit_applies_to_the_reference_feed_too(served: Path, tmp_path: Path) -> None:
    largest = max(p.stat().st_size for p in served.rglob("*.*"))
    with FeedServer(served, TOKEN) as feed:
        with pytest.raises(PullFailed, match=f"larger than {largest - 1} bytes"):
            pull_from_environment(
                tmp_path / "landing",
                _environment(feed.url, max_file_bytes=str(largest - 1)),
                sleep=lambda _: None,
            )
        summary = pull_from_environment(
            tmp_path / "landing",
            _environment(feed.url, max_file_bytes=str(largest)),
            sleep=lambda _: None,
        )
    assert summary.files_downloaded + summary.files_already_present == 12


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("request_deadline", "soon"),
        ("run_deadline", "0"),
        ("run_deadline", "-5"),
        ("max_listing_bytes", "4MiB"),
        ("max_file_bytes", "0"),
    ],
)
def test_a_bad_limit_in_the_environment_is_named(tmp_path: Path, setting: str, value: str) -> None:
    environ = _environment("http://127.0.0.1:9", **{setting: value})
    with pytest.raises(ValueError, match=f"ATTENDANCE_FEED_{setting.upper()}"):
        pull_from_environment(tmp_path / "landing", environ)


def test_the_limits_and_their_defaults_are_documented() -> None:
    text = (PROJECT_ROOT / "docs" / "http-pull.md").read_text()
    defaults = Limits()
    for setting, default in (
        (REQUEST_DEADLINE_ENV, f"{defaults.request_deadline:g}"),
        (RUN_DEADLINE_ENV, f"{defaults.run_deadline:g}"),
        (MAX_LISTING_BYTES_ENV, str(defaults.max_listing_bytes)),
        (MAX_FILE_BYTES_ENV, str(defaults.max_file_bytes)),
    ):
        assert f"| `{setting}` | `{default}` " in text, setting
    assert Limits.from_environment({}) == defaults
