"""The HTML attendance reports: one per LA and school, figures from the restricted marts,
rendered by headless Chromium with no console errors (screenshots kept in tests/artefacts/)."""

import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from publication.publish import PUBLISHED_DB
from serving.html_report import write_html_reports

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def reports(published: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_html_reports(published / PUBLISHED_DB, tmp_path_factory.mktemp("html"))


def render(page: Path, screenshot: Path) -> str:
    """Chromium's log of loading `page` (console messages included) after a screenshot."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1000,2400",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_one_report_per_la_and_per_school(published: Path, reports: list[Path]) -> None:
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        urns = {r[0] for r in con.execute("select urn from pupil_attendance").fetchall()}
    assert {p.name for p in reports} == {"la_881.html"} | {f"school_{u}.html" for u in urns}
    for page in reports:
        text = page.read_text()
        # Self-contained: nothing fetched from elsewhere.
        assert not re.search(r"(src|href)=\"(https?:)?//", text)
        assert "<script" not in text


def test_la_report_shows_the_support_counts_and_all_pupil_rate(
    published: Path, reports: list[Path]
) -> None:
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        persistent, total = con.execute(
            "select count(*) filter (where is_persistent_absence), count(*) from pupil_attendance"
        ).fetchone()
        severe = con.execute(
            "select count(*) from pupils_for_support where severe_absence"
        ).fetchone()[0]
    text = next(p for p in reports if p.name == "la_881.html").read_text()
    assert f'data-value="{persistent / total}"' in text
    shown = re.search(r"severe absence</text><rect [^>]*data-value=\"([0-9.]*)\"", text)
    assert shown is not None
    assert shown.group(1) == ("" if 1 <= severe <= 4 else str(float(severe)))


def test_reports_render_in_headless_chromium_without_console_errors(reports: list[Path]) -> None:
    for page in reports[:2]:
        screenshot = ARTEFACTS / f"{page.stem}.png"
        log = render(page, screenshot)
        assert console_errors(log) == [], log[-2000:]
        assert screenshot.stat().st_size > 10_000


def test_a_console_error_would_be_caught(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is reported."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><p>x</p><script>undefinedFunction()</script>")
    assert console_errors(render(page, tmp_path / "broken.png"))
