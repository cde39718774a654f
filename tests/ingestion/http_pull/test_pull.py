"""The HTTP pull against the real reference feed server, over real sockets on 127.0.0.1.

Only the waiting is faked (an injected sleep that records what it was asked to wait), so that
retries and back-off are checked exactly and the tests take no longer than the traffic.
"""

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingestion.http_pull import PullFailed, PullSummary, pull_extracts, read_cursor, state_path
from ingestion.ingest import ingest_landing
from synthetic import SyntheticLA
from synthetic.mis_feed import Faults, FeedServer
from tests.support.extracts import deliver
from warehouse.project import PROJECT_ROOT

TOKEN = "s3cret-feed-token-0123456789"
SOURCE = "mis"
# tiny_la: 4 schools x 6 school days, each extract a schools, a pupils and a marks file.
EXTRACTS, FILES = 24, 72


@pytest.fixture(scope="module")
def served(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The feed's folder: the generator's extracts, `<urn>/<stamp>/<file>`. Read only."""
    root = tmp_path_factory.mktemp("feed")
    deliver(tiny_la, root, range(len(tiny_la.days)))
    return root


@pytest.fixture
def feed(served: Path) -> Iterator[FeedServer]:
    with FeedServer(served, TOKEN) as server:
        yield server


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every visible file below `root`, by its path relative to `root`."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.parts)
    }


def _pull(server: FeedServer, landing: Path, sleeps: list[float], **options) -> PullSummary:
    return pull_extracts(server.url, TOKEN, landing, SOURCE, sleep=sleeps.append, **options)


def _files_requested(server: FeedServer) -> list[str]:
    return [r.path for r in server.requests if "/files/" in r.path]


def _listings(server: FeedServer) -> list[dict[str, str]]:
    return [r.query for r in server.requests if r.path == "/v1/extracts"]


def test_pull_lands_every_file_byte_identical(
    feed: FeedServer, served: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    landing, sleeps = tmp_path / "landing", []
    summary = _pull(feed, landing, sleeps, page_size=7)

    assert _tree(landing / SOURCE) == _tree(served)
    assert len(_tree(served)) == FILES
    assert (summary.pages, summary.extracts_saved) == (4, EXTRACTS)  # 7 + 7 + 7 + 3
    assert (summary.files_downloaded, summary.files_already_present) == (FILES, 0)
    assert summary.complete and sleeps == []
    assert read_cursor(landing, SOURCE) == summary.cursor is not None
    assert not list(landing.rglob("*.partial"))
    # The token is sent, never logged: not by the client, not by the server.
    assert TOKEN not in caplog.text
    assert TOKEN not in state_path(landing, SOURCE).read_text()


def test_second_pull_downloads_nothing_new(feed: FeedServer, tmp_path: Path) -> None:
    landing, sleeps = tmp_path / "landing", []
    first = _pull(feed, landing, sleeps, page_size=10)
    before = len(feed.requests)

    again = _pull(feed, landing, sleeps)

    assert (again.files_downloaded, again.extracts_saved, again.pages) == (0, 0, 1)
    assert again.cursor == first.cursor
    # One listing, from the committed cursor, that comes back empty.
    assert [r.query for r in feed.requests[before:]] == [{"limit": "100", "cursor": first.cursor}]


def test_new_extracts_at_the_feed_are_pulled_next_time(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    root, landing, sleeps = tmp_path / "feed", tmp_path / "landing", []
    deliver(tiny_la, root, range(2))
    with FeedServer(root, TOKEN) as server:
        assert _pull(server, landing, sleeps).extracts_saved == 8
        deliver(tiny_la, root, range(2, 3))
        later = _pull(server, landing, sleeps)
    assert (later.extracts_saved, later.files_downloaded) == (4, 12)
    assert _tree(landing / SOURCE) == _tree(root)


def test_429_waits_as_long_as_retry_after_says(served: Path, tmp_path: Path) -> None:
    landing, sleeps = tmp_path / "landing", []
    # Request 1 is the first listing, request 5 a file download.
    faults = Faults(too_many_requests_on={1, 5}, retry_after=7)
    with FeedServer(served, TOKEN, faults=faults) as server:
        summary = _pull(server, landing, sleeps, backoff=0.25)
        statuses = [r.status for r in server.requests]

    assert sleeps == [7, 7]
    assert statuses.count(429) == 2
    assert summary.files_downloaded == FILES
    assert _tree(landing / SOURCE) == _tree(served)


def test_503s_are_retried_with_growing_back_off(served: Path, tmp_path: Path) -> None:
    landing, sleeps = tmp_path / "landing", []
    with FeedServer(served, TOKEN, faults=Faults(unavailable_on={2, 3, 4})) as server:
        summary = _pull(server, landing, sleeps, backoff=0.5)
        # Requests 2, 3 and 4 were the same file, asked for again after each wait.
        assert len({r.path for r in server.requests[1:5]}) == 1

    assert sleeps == [0.5, 1.0, 2.0]
    assert summary.files_downloaded == FILES
    assert _tree(landing / SOURCE) == _tree(served)


def test_retries_are_bounded_and_the_failure_says_what_failed(served: Path, tmp_path: Path) -> None:
    landing, sleeps = tmp_path / "landing", []
    with FeedServer(served, TOKEN, faults=Faults(unavailable_on=range(1, 50))) as server:
        with pytest.raises(PullFailed) as failed:
            _pull(server, landing, sleeps, max_retries=3, backoff=1, max_backoff=3)
        assert len(server.requests) == 4
        assert f"GET {server.url}/v1/extracts?limit=100" in str(failed.value)

    assert sleeps == [1, 2, 3]  # doubled each time, up to max_backoff
    error = failed.value
    assert error.status == 503 and error.extracts_saved == 0
    assert "503" in str(error) and "after 4 attempts" in str(error)
    assert read_cursor(landing, SOURCE) is None


def test_a_very_long_retry_after_fails_now_instead_of_waiting(served: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    faults = Faults(too_many_requests_on={1}, retry_after=3600)
    with FeedServer(served, TOKEN, faults=faults) as server:
        with pytest.raises(PullFailed, match="asked to wait 3600 s") as failed:
            _pull(server, tmp_path / "landing", sleeps)
    assert sleeps == [] and failed.value.status == 429


@pytest.mark.parametrize("failure", ["error", "drop"])
def test_a_feed_that_dies_midway_keeps_what_was_committed_and_the_next_pull_resumes(
    served: Path, tmp_path: Path, failure: str
) -> None:
    landing, sleeps = tmp_path / "landing", []
    # Pages of 5 extracts (15 files). The feed answers page 1 and its files, page 2 and 7 of
    # its files (2 whole extracts and one file of a third), then dies.
    faults = Faults(fail_after=1 + 15 + 1 + 7, failure=failure)
    with FeedServer(served, TOKEN, faults=faults) as dying:
        with pytest.raises(PullFailed) as failed:
            _pull(dying, landing, sleeps, page_size=5, max_retries=2)
        page_1_files = set(_files_requested(dying)[:15])
        committed = _listings(dying)[1]["cursor"]

    error = failed.value
    assert error.status == (500 if failure == "error" else None)
    assert (error.extracts_saved, error.extracts_committed) == (7, 5)
    assert "7 extracts were saved" in str(error)
    assert len(sleeps) == 2
    assert read_cursor(landing, SOURCE) == committed
    assert len(_tree(landing / SOURCE)) == 15 + 7
    assert not list(landing.rglob("*.partial"))

    with FeedServer(served, TOKEN) as healthy:
        summary = _pull(healthy, landing, sleeps, page_size=5)
        # It starts at the committed cursor and never asks for page 1's files again; the
        # files of page 2 already on disk are checked by sha256 and kept.
        assert _listings(healthy)[0] == {"limit": "5", "cursor": committed}
        assert not page_1_files & set(_files_requested(healthy))

    assert (summary.files_already_present, summary.files_downloaded) == (7, FILES - 22)
    assert _tree(landing / SOURCE) == _tree(served)


def test_a_wrong_token_is_refused_at_once_and_never_shown(
    feed: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong, sleeps = "not-the-token-9876543210", []
    with pytest.raises(PullFailed) as failed:
        pull_extracts(feed.url, wrong, tmp_path / "landing", SOURCE, sleep=sleeps.append)

    error = failed.value
    assert error.status == 401 and "rejected the token" in str(error)
    assert "ATTENDANCE_FEED_TOKEN" in str(error)
    assert len(feed.requests) == 1 and sleeps == []  # not retried: retrying cannot fix it
    for text in (str(error), repr(error), caplog.text):
        assert wrong not in text and TOKEN not in text


def test_a_corrupted_download_never_reaches_the_landing_folder(
    served: Path, tmp_path: Path
) -> None:
    landing, sleeps = tmp_path / "landing", []
    # The feed's order: oldest first, then by URN.
    folders = {p.parent for p in served.rglob("*.*")}
    second_extract = sorted(folders, key=lambda p: (p.name, p.parent.name))[1]
    target = sorted(second_extract.iterdir())[0].relative_to(served)
    with FeedServer(served, TOKEN, faults=Faults(corrupt={str(target)})) as server:
        with pytest.raises(PullFailed, match="sha256 does not match") as failed:
            _pull(server, landing, sleeps, max_retries=2)
        asked = [p for p in _files_requested(server) if p.endswith(target.name)]

    assert len(asked) == 1 + 2 and len(sleeps) == 2  # a damaged copy is worth another try
    assert failed.value.extracts_saved == 1
    assert not (landing / SOURCE / target).exists()
    assert not list(landing.rglob("*.partial"))
    assert read_cursor(landing, SOURCE) is None  # the page was never committed


def test_the_pulled_folder_ingests_with_nothing_rejected(feed: FeedServer, tmp_path: Path) -> None:
    landing, sleeps = tmp_path / "landing", []
    _pull(feed, landing, sleeps, page_size=9)

    summary = ingest_landing(landing, tmp_path / "wh.duckdb", progress=lambda _: None)

    assert len(summary.files) == FILES
    assert [f.path for f in summary.files if f.rejected] == []
    assert summary.total("rows_new") > 0


@pytest.mark.parametrize(
    ("listing", "complaint"),
    [
        ({"urn": "100001", "stamp": "..", "name": "marks.csv"}, "not a plain folder name"),
        ({"urn": "../../x", "stamp": "s", "name": "marks.csv"}, "is not 6 digits"),
        # Digits of other scripts (Arabic-Indic, fullwidth) are not a URN's ASCII digits.
        (
            {"urn": "\u0661\u0660\u0660\u0660\u0660\u0661", "stamp": "s", "name": "marks.csv"},
            "is not 6 digits",
        ),
        (
            {"urn": "\uff11\uff10\uff10\uff10\uff10\uff11", "stamp": "s", "name": "marks.csv"},
            "is not 6 digits",
        ),
        (
            {"urn": "100001", "stamp": "s", "name": "notes.txt"},
            "is not a register extract's",
        ),
        (
            {"urn": "100001", "stamp": "s", "name": "marks.csv", "href": "http://example.org/x"},
            "another address",
        ),
    ],
)
def test_a_listing_cannot_steer_files_outside_the_landing_folder_or_the_token_elsewhere(
    tmp_path: Path, listing: dict[str, str], complaint: str
) -> None:
    body = json.dumps(
        {
            "extracts": [
                {
                    "id": "x",
                    "urn": listing["urn"],
                    "stamp": listing["stamp"],
                    "files": [
                        {
                            "name": listing["name"],
                            "sha256": "0" * 64,
                            "href": listing.get("href", "/v1/extracts/x/files/f"),
                        }
                    ],
                }
            ],
            "next_cursor": "c",
            "has_more": False,
        }
    ).encode()

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Hostile) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            with pytest.raises(PullFailed, match=complaint):
                pull_extracts(
                    f"http://127.0.0.1:{httpd.server_address[1]}",
                    TOKEN,
                    tmp_path / "landing",
                    SOURCE,
                    sleep=lambda _: None,
                )
        finally:
            httpd.shutdown()
    assert _tree(tmp_path) == {}


def test_the_feed_server_runs_from_the_command_line(served: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ATTENDANCE_FEED_TOKEN": TOKEN}
    command = [sys.executable, "-m", "synthetic.mis_feed", "--root", str(served), "--port", "0"]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        banner = process.stdout.readline()
        assert f"Serving {EXTRACTS} extracts" in banner, banner
        url = banner.split(" at ")[1].split("/v1/")[0]
        summary = pull_extracts(url, TOKEN, tmp_path / "landing", SOURCE)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert summary.files_downloaded == FILES
