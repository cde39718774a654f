"""A page opened in headless Chromium with the network switched off, and what happened.

Chromium is driven through the DevTools protocol over `--remote-debugging-pipe` (file
descriptors 3 and 4, messages ended by a NUL byte), so no client library is needed. Before
the page is opened, `Network.emulateNetworkConditions` takes the browser offline; every
request the page makes is recorded (`Network.requestWillBeSent`, which reports file:// loads
too), with its failures, console messages and uncaught exceptions. Afterwards the page's
visible text and any script's result can be read.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Descriptors Chromium reads its commands from and writes its answers to.
_COMMANDS_FD, _ANSWERS_FD = 3, 4


@dataclass
class OfflineLoad:
    """What loading one page with no network did."""

    requests: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    text: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def off_file(self) -> list[str]:
        """Every request for something that is not a local file."""
        return [url for url in self.requests if not url.startswith("file://")]


class _Browser:
    def __init__(self, profile: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def on_descriptors_3_and_4() -> None:  # in the child, before exec
            # Copied above 4 first, so that neither copy overwrites the other's source.
            commands = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
            answers = fcntl.fcntl(answers_write, fcntl.F_DUPFD, 10)
            os.dup2(commands, _COMMANDS_FD)
            os.dup2(answers, _ANSWERS_FD)

        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(_COMMANDS_FD, _ANSWERS_FD),
            preexec_fn=on_descriptors_3_and_4,  # noqa: PLW1509 - no threads here
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._last_id = 0
        self.events: list[dict[str, Any]] = []

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise RuntimeError(f"Chromium refused {method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == method for event in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"Chromium sent no {method} within {timeout} s")
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        finally:
            os.close(self._commands)
            os.close(self._answers)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load_offline(
    page: Path,
    *,
    scripts: dict[str, str] | None = None,
    screenshot: Path | None = None,
    window: tuple[int, int] = (1000, 2400),
    timeout: float = 90,
) -> OfflineLoad:
    """Open `page` in a `window` (width, height) with the network emulated offline; the
    value of each of `scripts` (name: a JavaScript expression) after the load event is in the
    result's `values`."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = _Browser(Path(profile))
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Network", "Page", "Runtime", "Log"):
                browser.call(f"{domain}.enable", session=session)
            browser.call(
                "Network.emulateNetworkConditions",
                {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
                session,
            )
            width, height = window
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session,
            )
            browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session)
            browser.wait_for("Page.loadEventFired", timeout)
            found = OfflineLoad()
            expressions = {"text": "document.body ? document.body.innerText : ''"}
            expressions.update(scripts or {})
            for name, expression in expressions.items():
                result = browser.call(
                    "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
                )
                found.values[name] = result["result"].get("value")
            found.text = found.values.pop("text")
            if screenshot is not None:
                shot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            browser.close()
    _collect(browser.events, found)
    return found


def _collect(events: list[dict[str, Any]], found: OfflineLoad) -> None:
    urls: dict[str, str] = {}
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
            found.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            found.failed.append((urls.get(params["requestId"], "?"), params["errorText"]))
        elif method == "Runtime.consoleAPICalled":
            found.console.append(
                " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.exceptions.append(
                str(details.get("exception", {}).get("description") or details.get("text"))
            )
