"""A reference school-MIS-style feed server: serves a folder of register extracts over HTTP.

It exists for the demo and the tests of `ingestion.http_pull`, not for production: it binds to
127.0.0.1 only, speaks plain HTTP and knows a single bearer token. What it serves is a
landing-style tree as the synthetic generator writes it, `<urn>/<stamp>/<kind>.<ext>`; other
files and folders are ignored. The folder is scanned on every listing, so extracts written
while it runs are served too.

    GET /v1/extracts?limit=N[&cursor=C]      a page of extracts, oldest first (JSON)
    GET /v1/extracts/<id>/files/<name>       one file's bytes, exactly as on disk

Every request needs `Authorization: Bearer <token>`. See docs/http-pull.md for the JSON.

For tests it can misbehave on purpose (`Faults`): answer 429 with Retry-After or 503 on
chosen requests, corrupt chosen files, send chosen answers a byte at a time, or die after a
number of requests (500 forever, or drop every connection). It logs request paths at debug
level only: paths name schools and extract times, never pupils, and the token is never
logged.

Run it by hand: `python -m synthetic.mis_feed --root DIR [--port P]`, with the token in
ATTENDANCE_FEED_TOKEN (or `--token T`, which other users of the machine can see in `ps`).
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from ingestion.contract import kind_of
from ingestion.landing import URN, stamp_time

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
TOKEN_ENV = "ATTENDANCE_FEED_TOKEN"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

_FILE_PATH = re.compile(r"/v1/extracts/([^/]+)/files/([^/]+)")


@dataclass(frozen=True)
class Faults:
    """Ways to misbehave, for tests. Requests are numbered from 1 in the order they arrive,
    whatever their endpoint, and including those refused for a bad token."""

    # These requests get 429 Too Many Requests with `Retry-After: retry_after`.
    too_many_requests_on: Collection[int] = ()
    retry_after: int = 2
    # These requests get 503 Service Unavailable, without Retry-After.
    unavailable_on: Collection[int] = ()
    # After this many requests have been answered, the server "dies": every later request
    # gets 500 ("error") or has its connection closed without an answer ("drop").
    fail_after: int | None = None
    failure: Literal["error", "drop"] = "error"
    # Files, as "<urn>/<stamp>/<name>", served with one byte changed (their sha256 no longer
    # matches the listing), as a broken proxy or disk would.
    corrupt: Collection[str] = ()
    # These requests get their status line and headers at once, then their body one byte
    # every `trickle_interval` seconds: a stalled or hostile server that a time-out on each
    # socket read never catches, since every read gets a byte in time.
    trickle_on: Collection[int] = ()
    trickle_interval: float = 1.0


@dataclass(frozen=True)
class ServedRequest:
    """What the server saw, for tests to count: never the headers (they hold the token)."""

    number: int
    path: str
    query: dict[str, str]
    status: int | None  # None: the connection was dropped without an answer


@dataclass(frozen=True)
class _File:
    name: str
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class _Extract:
    urn: str
    stamp: str
    files: tuple[_File, ...]

    @property
    def id(self) -> str:
        # A URN is six digits, so the first "_" always separates it from the stamp.
        return f"{self.urn}_{self.stamp}"

    @property
    def order(self) -> tuple[str, str]:
        # Generated stamps are UTC and fixed-width, so their text order is their time order.
        return (self.stamp, self.urn)


@dataclass
class _Checksums:
    """sha256 of each file, recomputed only when its size or modification time changes."""

    known: dict[Path, tuple[int, int, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, path: Path) -> tuple[int, str]:
        stat = path.stat()
        with self.lock:
            cached = self.known.get(path)
        if cached and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return stat.st_size, cached[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with self.lock:
            self.known[path] = (stat.st_size, stat.st_mtime_ns, digest)
        return stat.st_size, digest


class FeedServer:
    """The reference feed, on 127.0.0.1. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self, root: Path, token: str, *, port: int = 0, faults: Faults | None = None
    ) -> None:
        if not token or any(c.isspace() for c in token):
            raise ValueError("the feed server's token must be non-empty, without spaces")
        self.root = Path(root)
        self.faults = faults or Faults()
        self.requests: list[ServedRequest] = []
        self._token = token.encode()
        self._port = port
        self._checksums = _Checksums()
        self._lock = threading.Lock()
        self._count = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> "FeedServer":
        if self._httpd is not None:
            raise RuntimeError("the feed server is already running")
        self._httpd = ThreadingHTTPServer((HOST, self._port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="feed-server", daemon=True
        )
        self._thread.start()
        log.info("feed server: serving %s at %s", self.root, self.url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd = self._thread = None

    def __enter__(self) -> "FeedServer":
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL clients are given, e.g. http://127.0.0.1:54321"""
        if self._httpd is None:
            raise RuntimeError("the feed server is not running; call start() first")
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    # -- what is served -----------------------------------------------------------------------

    def extracts(self) -> list[_Extract]:
        """Every extract under the root, oldest first (then by URN): the feed's stable order."""
        found = []
        for school in _folders(self.root):
            if not URN.fullmatch(school.name):
                continue
            for stamp in _folders(school):
                files = tuple(
                    _File(path.name, path, *self._checksums.of(path))
                    for path in sorted(stamp.iterdir())
                    if path.is_file() and kind_of(path.name) is not None
                )
                if files:
                    found.append(_Extract(school.name, stamp.name, files))
        return sorted(found, key=lambda extract: extract.order)

    def _number_request(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def _record(self, served: ServedRequest) -> None:
        with self._lock:
            self.requests.append(served)

    def _authorised(self, header: str | None) -> bool:
        scheme, _, credentials = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), self._token
        )


def _folders(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


def encode_cursor(order: tuple[str, str]) -> str:
    """The position after the extract with this (stamp, urn): opaque to clients."""
    return base64.urlsafe_b64encode(json.dumps(list(order)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        stamp, urn = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error) as error:
        raise ValueError("the cursor is not one this feed gave out") from error
    if not (isinstance(stamp, str) and isinstance(urn, str)):
        raise ValueError("the cursor is not one this feed gave out")
    return stamp, urn


def _extracted_at(stamp: str) -> str | None:
    """The stamp as ISO 8601, when it is named like the extract contract's example."""
    taken = stamp_time(stamp)
    return None if taken is None else taken.isoformat().replace("+00:00", "Z")


def _page(server: FeedServer, query: dict[str, str]) -> dict:
    """One page of the listing. Raises ValueError for a request the client must fix."""
    limit_text = query.get("limit", str(DEFAULT_PAGE_SIZE))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    limit = int(limit_text)
    cursor = query.get("cursor") or None
    after = decode_cursor(cursor) if cursor else None
    pending = [e for e in server.extracts() if after is None or e.order > after]
    page = pending[:limit]
    return {
        "extracts": [
            {
                "id": e.id,
                "urn": e.urn,
                "stamp": e.stamp,
                "extracted_at": _extracted_at(e.stamp),
                "files": [
                    {
                        "name": f.name,
                        "size": f.size,
                        "sha256": f.sha256,
                        "href": f"/v1/extracts/{e.id}/files/{f.name}",
                    }
                    for f in e.files
                ],
            }
            for e in page
        ],
        # Always the position after this page (the request's own cursor if it is empty), so
        # a client can commit it and start there next time, even after the last page.
        "next_cursor": encode_cursor(page[-1].order) if page else cursor,
        "has_more": len(pending) > limit,
    }


def _find_file(server: FeedServer, extract_id: str, name: str) -> _File | None:
    for extract in server.extracts():
        if extract.id == extract_id:
            return next((f for f in extract.files if f.name == name), None)
    return None


def _corrupted(data: bytes) -> bytes:
    if not data:
        return b"\0"
    return data[:-1] + bytes([data[-1] ^ 0xFF])


@dataclass(frozen=True)
class _Response:
    status: HTTPStatus
    data: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: HTTPStatus, body: dict, *headers: tuple[str, str]) -> _Response:
    return _Response(status, json.dumps(body).encode(), "application/json", headers)


def _answer(
    server: FeedServer, number: int, path: str, query: dict[str, str], auth: str | None
) -> _Response | None:
    """What request `number` gets; None: drop the connection without an answer."""
    faults = server.faults
    if faults.fail_after is not None and number > faults.fail_after:
        if faults.failure == "drop":
            return None
        return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "the feed broke"})
    if number in faults.too_many_requests_on:
        retry_after = ("Retry-After", str(faults.retry_after))
        return _json(HTTPStatus.TOO_MANY_REQUESTS, {"error": "slow down"}, retry_after)
    if number in faults.unavailable_on:
        return _json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "try again later"})
    if not server._authorised(auth):
        challenge = ("WWW-Authenticate", 'Bearer realm="feed"')
        return _json(
            HTTPStatus.UNAUTHORIZED, {"error": "a valid bearer token is required"}, challenge
        )
    if path == "/v1/extracts":
        try:
            return _json(HTTPStatus.OK, _page(server, query))
        except ValueError as problem:
            return _json(HTTPStatus.BAD_REQUEST, {"error": str(problem)})
    match = _FILE_PATH.fullmatch(path)
    found = _find_file(server, *match.groups()) if match else None
    if found is None:
        return _json(HTTPStatus.NOT_FOUND, {"error": f"no such resource: {path}"})
    data = found.path.read_bytes()
    if f"{match.group(1).replace('_', '/', 1)}/{found.name}" in faults.corrupt:
        data = _corrupted(data)
    return _Response(HTTPStatus.OK, data, "application/octet-stream")


def _handler_for(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a "dropped" connection is simple to fake.
        protocol_version = "HTTP/1.0"
        server_version = "ReferenceMISFeed/1"

        def do_GET(self) -> None:
            number = server._number_request()
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            auth = self.headers.get("Authorization")
            response = _answer(server, number, unquote(split.path), query, auth)
            # Recorded before answering: once the client has its answer, the log is complete.
            status = None if response is None else int(response.status)
            server._record(ServedRequest(number, split.path, query, status))
            if response is None:
                self.close_connection = True
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.data)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if number in server.faults.trickle_on:
                self._trickle(response.data)
            else:
                self.wfile.write(response.data)

        def _trickle(self, data: bytes) -> None:
            self.close_connection = True
            for offset in range(len(data)):
                try:
                    self.wfile.write(data[offset : offset + 1])
                    self.wfile.flush()
                except OSError:
                    return  # the client gave up on the answer: that is what the fault is for
                time.sleep(server.faults.trickle_interval)

        def log_message(self, format: str, *args: object) -> None:
            # Request lines name schools and extract times only; never log headers (token).
            log.debug("feed server: " + format, *args)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synthetic.mis_feed",
        description="Serve a folder of register extracts (<urn>/<stamp>/<file>) on 127.0.0.1.",
    )
    parser.add_argument("--root", type=Path, required=True, help="folder of extracts to serve")
    parser.add_argument("--port", type=int, default=8765, help="0 picks any free port")
    parser.add_argument(
        "--token", help=f"bearer token clients must send (default: ${TOKEN_ENV}, safer)"
    )
    args = parser.parse_args(argv)
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        parser.error(f"give the token in ${TOKEN_ENV} (or --token)")
    if not args.root.is_dir():
        parser.error(f"--root {args.root} is not a folder")
    server = FeedServer(args.root, token, port=args.port).start()
    print(
        f"Serving {len(server.extracts())} extracts from {args.root} at {server.url}/v1/extracts "
        "(Ctrl-C stops)",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
