"""The targeting meeting packs: one per school, restricted (0640, UPNs, no names), every
list and figure equal to the generator's record, printable to A4 (a PDF printed by headless
Chromium, checked for its page size and count) and accessible (axe-core)."""

import re
import stat
from datetime import datetime
from pathlib import Path

import pytest

from publication.publish import PUBLISHED_DB
from serving.packs.listed import REASONS
from serving.packs.page import AGREED_ACTION_ROWS
from serving.packs.targeting import write_targeting_packs
from synthetic import SyntheticLA
from tests.support import truth_pack, truth_reports
from tests.support.pdf import A4_POINTS, pdf_pages, print_to_pdf
from tests.support.report_pages import axe_violations, console_errors, number, read_page, render
from tests.support.truth_schools import school_names
from warehouse.permissions import file_mode

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts"
BLOCKING_IMPACTS = {"serious", "critical"}
# Each part after the cover starts a sheet: pupils, trend, registers, agreed actions.
PARTS = 4


@pytest.fixture(scope="module")
def packs(published: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("warehouse") / "reports" / "targeting"
    return {p.stem: p for p in write_targeting_packs(published / PUBLISHED_DB, folder)}


@pytest.fixture(scope="module")
def last_day(serving_la: SyntheticLA) -> int:
    return serving_la.config.school_days - 1


def test_one_restricted_self_contained_pack_per_school(
    serving_la: SyntheticLA, packs: dict[str, Path]
) -> None:
    assert set(packs) == {s.urn for s in serving_la.schools}
    names = {n for e in serving_la.enrolments for n in (e.forename, e.surname)}
    titles = school_names(serving_la)
    for urn, page in packs.items():
        mode = stat.S_IMODE(page.stat().st_mode)
        assert mode == file_mode() and not mode & 0o007, (urn, oct(mode))
        text = page.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text)
        assert "<script" not in text
        assert not [n for n in names if n in text], urn
        assert read_page(page).h1 == f"{titles[urn]} (URN {urn}): targeting meeting pack"
        assert "designated safeguarding lead" in text and "attendance team" in text


def _shown(page: Path, key: str) -> dict[str, list[str]]:
    read = read_page(page)
    return read.rows(f"{key}-table") if f"{key}-table" in read.tables else {}


def test_the_pupil_lists_are_the_true_ones(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    """Severe, persistent and other lists: who, in which list, year, SEN, possible sessions,
    the absence rate to one decimal and the reasons in words, for every school."""
    seen = {"severe": 0, "persistent": 0, "other": 0}
    for urn, page in packs.items():
        expected = truth_pack.pack_pupils(serving_la, last_day, urn)
        for key in seen:
            shown = _shown(page, key)
            wanted = {p.upn: p for p in expected.values() if p.listed_in == key}
            assert set(shown) == set(wanted), (urn, key)
            for upn, cells in shown.items():
                pupil = wanted[upn]
                reasons = "".join(f"{REASONS[flag]}." for flag in pupil.reasons)
                assert cells == [
                    pupil.ncy,
                    pupil.sen_provision,
                    f"{pupil.possible_sessions:,}",
                    pupil.absence_percent,
                    " ".join(reasons.split()),
                ], (urn, upn)
            # Highest absence first.
            rates = [float(cells[3].rstrip("%")) for cells in shown.values()]
            assert rates == sorted(rates, reverse=True), (urn, key)
            seen[key] += len(shown)
    # The lists are not empty by accident: the published LA has pupils in each.
    assert seen["severe"] and seen["persistent"], seen


def test_unresolved_n_and_provision_are_the_true_ones(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    """N codes: who, how many sessions and the oldest, oldest first; C2, K and B sessions."""
    unresolved_somewhere = 0
    for urn, page in packs.items():
        pupils = [
            p
            for p in truth_pack.pack_pupils(serving_la, last_day, urn).values()
            if p.unresolved_n_sessions
        ]
        pupils.sort(key=lambda p: (p.oldest_unresolved_n_date, p.upn))
        shown = _shown(page, "unresolved")
        assert list(shown.items()) == [
            (p.upn, [f"{p.unresolved_n_sessions:,}", f"{p.oldest_unresolved_n_date:%d %b %Y}"])
            for p in pupils
        ], urn
        unresolved_somewhere += len(shown)
        provision = {
            re.search(r"\((\w+)", label).group(1): (number(cells[0]), number(cells[1]))
            for label, cells in _shown(page, "provision").items()
        }
        assert provision == truth_pack.provision_sessions(serving_la, last_day, urn), urn
    assert unresolved_somewhere


def test_the_headline_and_weekly_trend_are_the_true_ones(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    for urn, page in packs.items():
        top = truth_reports.headline(serving_la, last_day, {urn})
        text = page.read_text()
        assert f"<dt>Pupils on roll (enrolments)</dt><dd>{top['enrolments']:,}</dd>" in text
        assert f"<dt>Severely absent</dt><dd>{top['severe']:,}</dd>" in text, urn
        assert f"<dt>Persistently absent</dt><dd>{top['persistent']:,}</dd>" in text, urn
        listed = len(truth_pack.pack_pupils(serving_la, last_day, urn))
        assert f"<dt>Pupils on the action list</dt><dd>{listed:,}</dd>" in text, urn
        weeks = truth_reports.weekly(serving_la, last_day, {urn})
        shown = {
            datetime.strptime(label, "w/c %d %b %Y").date(): [number(c) for c in cells[:3]]
            for label, cells in _shown(page, "weekly").items()
        }
        assert shown == {
            monday: [t["possible"], t.get("attended", 0), t.get("absent", 0)]
            for monday, t in weeks.items()
        }, urn
        # On paper a closed <details> hides its table: the pack's is open.
        assert "<details open>" in text


def test_agreed_actions_is_a_blank_table_to_write_in(packs: dict[str, Path]) -> None:
    for urn, page in packs.items():
        table = read_page(page).tables["actions-table"]
        assert table[0] == ["Action (pupil or cohort)", "Who", "By when", "Review"], urn
        assert table[1:] == [[""] * 4] * AGREED_ACTION_ROWS, urn


def test_a_pack_prints_to_a4_with_each_part_on_its_own_sheets(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    """The school with the longest lists, printed by headless Chromium: every page A4
    (595 x 842 points), the cover then each part on a sheet of its own, and no more sheets
    than its rows need."""
    urn = max(packs, key=lambda u: len(truth_pack.pack_pupils(serving_la, last_day, u)))
    pdf = print_to_pdf(packs[urn], ARTEFACTS / f"targeting_{urn}.pdf")
    sizes = pdf_pages(pdf)
    assert sizes and all(size == A4_POINTS for size in sizes), sizes
    listed = len(truth_pack.pack_pupils(serving_la, last_day, urn))
    assert 1 + PARTS <= len(sizes) <= 1 + PARTS + 1 + listed // 8, (len(sizes), listed)


def test_a_page_without_the_print_css_would_not_pass(tmp_path: Path) -> None:
    """The checks above can fail: a page with no `@page` rule prints on US Letter, on one
    sheet."""
    page = tmp_path / "plain.html"
    page.write_text('<!doctype html><html lang="en"><title>t</title><p>One part.</p></html>')
    sizes = pdf_pages(print_to_pdf(page, tmp_path / "plain.pdf"))
    assert sizes == [(612, 792)]


def test_packs_render_without_console_errors_and_pass_axe(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path], tmp_path: Path
) -> None:
    """Every pack renders cleanly; axe checks the longest and the shortest (about 15 s each,
    and the packs differ only in how many rows their tables have)."""
    for urn, page in packs.items():
        log = render(page, ARTEFACTS / f"targeting_{urn}.png")
        assert console_errors(log) == [], log[-2000:]
    listed = {u: len(truth_pack.pack_pupils(serving_la, last_day, u)) for u in packs}
    for urn in {max(listed, key=listed.get), min(listed, key=listed.get)}:
        found = axe_violations(packs[urn], tmp_path / urn)
        blocking = [v for v in found if v["impact"] in BLOCKING_IMPACTS]
        assert blocking == [], (urn, blocking)
