"""The HTML attendance reports: one per LA and school, every figure the true count and equal
to the generator's record, every chart with a title, a summary and a table; rendered by
headless Chromium with no console errors and checked there by axe-core (screenshots kept in
tests/artefacts/)."""

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest

from publication.publish import PUBLISHED_DB
from serving.html_report import write_html_reports
from serving.reports.charts import Bar, Chart, figure
from synthetic import SyntheticLA
from tests.support.report_pages import (
    axe_violations,
    console_errors,
    number,
    read_page,
    render,
)
from tests.support.truth import reports as truth_reports
from tests.support.truth.schools import school_names
from warehouse.project import SEEDS_DIR

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="module")
def reports(published: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_html_reports(published / PUBLISHED_DB, tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def last_day(serving_la: SyntheticLA) -> int:
    return serving_la.config.school_days - 1


def areas(la: SyntheticLA) -> dict[str, set[str]]:
    """Each report's file name -> the URNs its figures cover."""
    found = {f"school_{s.urn}.html": {s.urn} for s in la.schools}
    for code in {s.la_code for s in la.schools}:
        found[f"la_{code}.html"] = {s.urn for s in la.schools if s.la_code == code}
    return found


def test_one_report_per_la_and_per_school(serving_la: SyntheticLA, reports: list[Path]) -> None:
    assert {p.name for p in reports} == set(areas(serving_la))
    for page in reports:
        text = page.read_text()
        # Self-contained: nothing fetched from elsewhere.
        assert not re.search(r"(src|href)=\"(https?:)?//", text)
        assert "<script" not in text


def test_a_school_report_names_the_school_from_the_schools_reference(
    serving_la: SyntheticLA, reports: list[Path]
) -> None:
    names = school_names(serving_la)
    for page in reports:
        if page.name.startswith("school_"):
            urn = page.stem.removeprefix("school_")
            read = read_page(page)
            assert read.h1 == f"{names[urn]} (URN {urn}): attendance"
            assert read.title == read.h1


def test_every_figure_is_the_true_count(
    serving_la: SyntheticLA, last_day: int, reports: list[Path]
) -> None:
    """Each report's tables against the generator's record, for the LA and every school."""
    by_name = {p.name: p for p in reports}
    for name, urns in areas(serving_la).items():
        page = read_page(by_name[name])
        weeks = truth_reports.weekly(serving_la, last_day, urns)
        shown = {
            datetime.strptime(label, "w/c %d %b %Y").date(): [number(c) for c in cells[:3]]
            for label, cells in page.rows("weekly-table").items()
        }
        assert shown == {
            monday: [t["possible"], t.get("attended", 0), t.get("absent", 0)]
            for monday, t in weeks.items()
        }, name
        reasons = {
            label.split(" ", 1)[0]: number(cells[-1])
            for label, cells in page.rows("reasons-table").items()
        }
        assert reasons == truth_reports.absence_by_reason(serving_la, last_day, urns), name
        for key, by_need in (("persistent-provision", False), ("persistent-need", True)):
            groups = {
                None if label == "Not stated" else label.split(" ", 1)[0]: (
                    number(cells[0]),
                    number(cells[1]),
                )
                for label, cells in page.rows(f"{key}-table").items()
            }
            assert groups == truth_reports.persistent_by_group(
                serving_la, last_day, urns, by_need
            ), (name, key)
        episodes = [number(cells[0]) for cells in page.rows("episodes-table").values()]
        assert episodes == truth_reports.episodes_by_length(serving_la, last_day, urns), name
        support = [number(cells[0]) for cells in page.rows("support-table").values()]
        assert support == truth_reports.support_counts(serving_la, last_day, urns), name
        shown = page.rows("headline-table")
        for column, compulsory_only in ((0, False), (1, True)):
            top = truth_reports.headline(serving_la, last_day, urns, compulsory_only)
            want = {
                "Enrolments": f"{top['enrolments']:,}",
                "Attendance rate": f"{top['attended'] / top['possible']:.1%}",
                "Overall absence rate": f"{1 - top['attended'] / top['possible']:.1%}",
                "Persistently absent": f"{top['persistent']:,}",
                "Persistent absence rate": f"{top['persistent'] / top['enrolments']:.1%}",
                "Severely absent": f"{top['severe']:,}",
                "Severe absence rate": f"{top['severe'] / top['enrolments']:.1%}",
            }
            assert {k: cells[column] for k, cells in shown.items()} == want, (name, column)


def test_small_counts_are_shown_to_the_hub_and_the_school(
    serving_la: SyntheticLA, last_day: int, reports: list[Path]
) -> None:
    """Groups of 1 to 4 occur in the data (so the comparison above covers them) and are
    printed as numbers; nothing is withheld."""
    small = 0
    for page in reports:
        assert "withheld" not in page.read_text().lower(), page.name
        read = read_page(page)
        for key in ("persistent-provision", "persistent-need", "support"):
            small += sum(1 <= number(cells[0]) <= 4 for cells in read.rows(f"{key}-table").values())
    assert small >= 5
    severe = [
        truth_reports.headline(serving_la, last_day, urns)["severe"]
        for urns in areas(serving_la).values()
    ]
    assert any(1 <= n <= 4 for n in severe), severe


def test_reason_labels_are_whole(reports: list[Path]) -> None:
    with (SEEDS_DIR / "register_codes.csv").open(newline="", encoding="utf-8") as handle:
        described = {
            r["code"]: r["description"] for r in csv.DictReader(handle) if r["code_set"] == "2024"
        }
    for page in reports:
        labels = list(read_page(page).rows("reasons-table"))
        assert labels, page.name
        for label in labels:
            code = label.split(" ", 1)[0]
            assert label == f"{code} {described[code]}", page.name
            assert f">{label}</text>" in page.read_text(), (page.name, label)
    assert "G Holiday not granted by the school" in "".join(p.read_text() for p in reports)


def test_every_chart_has_a_title_a_summary_and_a_table_of_its_figures(
    reports: list[Path],
) -> None:
    for page in reports:
        read = read_page(page)
        # Six bar charts and the year-to-date trend (a line chart: test_trends.py).
        assert len(read.svgs) == 7, page.name
        for svg in read.svgs:
            assert svg.attrs.get("role") == "img"
            title_id, desc_id = svg.attrs["aria-labelledby"].split()
            assert svg.texts[title_id] and len(svg.texts[desc_id]) > 40, svg.texts
            key = title_id.removesuffix("-title")
            assert read.tables[f"{key}-table"][0], key
            if key == "trend":
                continue
            # One table row per bar, under the heading row.
            assert len(read.tables[f"{key}-table"]) - 1 == svg.bars, (page.name, key)


def bar_widths(chart: Chart) -> list[float]:
    return [float(w) for w in re.findall(r'class="bar"[^>]* width="([0-9.]+)"', figure(chart))]


def test_weeks_at_91_and_95_percent_attendance_look_different() -> None:
    """Attendance of 91% and 95% is drawn as absence of 9% and 5% on an axis from 0 to 10%:
    the shorter bar is about half the longer, not 96% of it as on a 0 to 100% axis."""
    weeks = tuple(
        Bar(label, 1 - attendance, f"{attendance:.0%}", ())
        for label, attendance in (("w/c 01 Sep 2025", 0.91), ("w/c 08 Sep 2025", 0.95))
    )
    chart = Chart("weekly", "Absence by week", "", ("Week",), weeks, is_rate=True)
    longer, shorter = bar_widths(chart)
    assert shorter / longer == pytest.approx(5 / 9)
    assert longer - shorter > 150  # pixels, of a plot about 500 wide
    assert ">10%</text>" in figure(chart) and ">100%</text>" not in figure(chart)


def test_reports_render_in_headless_chromium_without_console_errors(reports: list[Path]) -> None:
    for page in reports:
        screenshot = ARTEFACTS / f"{page.stem}.png"
        log = render(page, screenshot)
        assert console_errors(log) == [], log[-2000:]
        assert screenshot.stat().st_size > 10_000


def test_a_console_error_would_be_caught(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is reported."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><p>x</p><script>undefinedFunction()</script>")
    assert console_errors(render(page, tmp_path / "broken.png"))


def test_axe_finds_no_serious_or_critical_violation(reports: list[Path], tmp_path: Path) -> None:
    for page in reports:
        found = axe_violations(page, tmp_path / page.stem)
        blocking = [v for v in found if v["impact"] in BLOCKING_IMPACTS]
        assert blocking == [], (page.name, blocking)


def test_axe_would_find_a_chart_without_a_text_alternative(tmp_path: Path) -> None:
    """The check above can fail: an `<svg role="img">` with no title, as the reports had."""
    page = tmp_path / "untitled.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<svg role="img" width="100" height="20"><rect width="50" height="20"></rect></svg>'
        "</main></body></html>"
    )
    found = axe_violations(page, tmp_path / "axe")
    assert {(v["id"], v["impact"]) for v in found} >= {("svg-img-alt", "serious")}
