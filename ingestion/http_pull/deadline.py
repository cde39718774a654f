"""Wall-clock deadlines: one for each request's whole answer, one for the whole pull.

A socket time-out bounds each wait for data, not the whole: a feed that sends a byte every
few seconds (or an endless header, or endless "100 Continue" answers) never trips it. So
each request runs under a `Watchdog`, a timer that shuts the request's socket down when the
deadline passes, wherever the request is waiting: in the TLS handshake, the headers or the
body. The client then reports the deadline, not the broken connection that the watchdog
caused. What comes before the socket is handed over is bounded otherwise: the connect by
the socket time-out (at most the deadline), the name lookup by the resolver's own
time-outs, and a proxy's answer to CONNECT (a proxy of the deployment's own, never the
feed) by the socket time-out on each read.
"""

import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.request import HTTPHandler, HTTPSHandler, Request


@dataclass
class Deadline:
    """A moment by which something must be done, on the monotonic clock."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    ends: float = field(init=False)

    def __post_init__(self) -> None:
        self.ends = self.clock() + self.seconds

    def remaining(self) -> float:
        return self.ends - self.clock()


class Watchdog:
    """Shuts down the sockets of one request when `seconds` have passed.

    Use as a context manager around the whole request, reading of the body included; the
    connection classes below hand it their socket as soon as it is connected.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            for watched in self._sockets:
                watched.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        """Watch a connected socket. Its own copy of the descriptor: TLS wraps (and detaches)
        the original, and shutting a socket down through any descriptor reaches them all."""
        with self._lock:
            if self._done or self.fired:
                raise TimeoutError("the request's deadline passed while it connected")
            self._sockets.append(sock.dup())

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            for watched in self._sockets:
                try:
                    # Wakes a read blocked in another thread; close() alone would not.
                    watched.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by its other end


class _Watched(http.client.HTTPConnection):
    """Hands its socket to the request's watchdog once connected, before any TLS handshake
    (in HTTPSConnection's order of classes, this connect runs inside its own)."""

    watchdog: Watchdog

    def connect(self) -> None:
        super().connect()
        self.watchdog.watch(self.sock)


class _WatchedHTTPS(http.client.HTTPSConnection, _Watched):
    pass


def _factory(kind: type[_Watched], watchdog: Watchdog) -> Callable[..., _Watched]:
    def connection(host: str, **options: Any) -> _Watched:
        made = kind(host, **options)
        made.watchdog = watchdog
        return made

    return connection


class WatchedHTTPHandler(HTTPHandler):
    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req: Request) -> http.client.HTTPResponse:
        return self.do_open(_factory(_Watched, self.watchdog), req)


class WatchedHTTPSHandler(HTTPSHandler):
    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def https_open(self, req: Request) -> http.client.HTTPResponse:
        # No context given: http.client's default, as urllib's own handler gives
        # (certificates verified, host names checked).
        return self.do_open(_factory(_WatchedHTTPS, self.watchdog), req)
