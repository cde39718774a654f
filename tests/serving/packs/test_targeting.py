"""The targeting meeting packs: one per school, restricted (0640, UPNs, no names), every
list and figure equal to the generator's record, printable to A4 (a PDF printed by headless
Chromium, checked for its page size and count) and accessible (axe-core)."""

import csv
import re
import stat
from fractions import Fraction
from pathlib import Path

import pytest

from publication.publish import PUBLISHED_DB
from serving.action_list.reasons import REASONS
from serving.packs.listed import Listed, ListedPupil
from serving.packs.page import AGREED_ACTION_ROWS, pupils_section
from serving.packs.targeting import write_targeting_packs
from serving.reports.cohorts import CHARACTERISTICS, group_label
from synthetic import SyntheticLA
from tests.support.pdf import A4_POINTS, pdf_pages, print_to_pdf
from tests.support.report_pages import axe_violations, console_errors, number, read_page, render
from tests.support.truth import pack as truth_pack
from tests.support.truth.schools import school_names
from warehouse.permissions import file_mode
from warehouse.project import SEEDS_DIR

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts"
BLOCKING_IMPACTS = {"serious", "critical"}
WORDS = dict(REASONS)  # the action list's reasons in words, by flag
# Each part after the cover starts a sheet: pupils, cohorts, trend, registers, actions.
PARTS = 5


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


def _table(page: Path, key: str) -> list[list[str]]:
    """The table's body rows (no heading row); none when the page says there is no row."""
    read = read_page(page)
    return read.tables[f"{key}-table"][1:] if f"{key}-table" in read.tables else []


def _pupil_rows(pupils: list[truth_pack.PackPupil]) -> list[list[str]]:
    """The rows a table of `pupils` must have, in priority order."""
    return [
        [
            f"{p.priority:,}",
            p.upn,
            p.ncy,
            p.sen_provision,
            f"{p.possible_sessions:,}",
            p.absence_percent,
            " ".join("".join(f"{WORDS[flag]}." for flag in p.reasons).split()),
            "New" if p.newly_listed else "",
        ]
        for p in sorted(pupils, key=lambda p: p.priority)
    ]


def test_the_pupil_lists_are_the_true_ones(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    """Severe, persistent, other, newly listed and part-time lists: who, in priority order,
    year, SEN, possible sessions, the absence rate to one decimal, the reasons in words and
    whether new, for every school."""
    seen = dict.fromkeys(("severe", "persistent", "other", "new", "part-time"), 0)
    for urn, page in packs.items():
        pupils = list(truth_pack.pack_pupils(serving_la, last_day, urn).values())
        wanted = {
            "severe": [p for p in pupils if p.listed_in == "severe"],
            "persistent": [p for p in pupils if p.listed_in == "persistent"],
            "other": [p for p in pupils if p.listed_in == "other"],
            "new": [p for p in pupils if p.newly_listed],
            "part-time": [p for p in pupils if p.part_time_timetable],
        }
        if pupils and all(p.newly_listed for p in pupils):
            # Every listed pupil new (the first publication): said once, not listed again.
            assert 'id="new-all"' in page.read_text(), urn
            wanted["new"] = []
        for key, expected in wanted.items():
            assert _table(page, key) == _pupil_rows(expected), (urn, key)
            seen[key] += len(expected)
    # The lists are not empty by accident: the published LA has pupils in each of these.
    assert seen["severe"] and seen["persistent"], seen


def _pupil(upn: str, priority: int, new: bool) -> ListedPupil:
    return ListedPupil(
        priority, upn, "7", "N", 20, 0.2, False, True, new, False, ("Persistent",), 0, None
    )


def test_after_the_first_publication_the_new_pupils_have_their_own_table() -> None:
    """With some listed pupils new and some not, the new ones are listed again on their own
    (the published LA's single publication makes every pupil new, so this is built here)."""
    listed = Listed((_pupil("A1", 1, new=False), _pupil("B2", 2, new=True)))
    body = pupils_section(listed)
    assert 'id="new-all"' not in body
    assert re.findall(r'<table id="new-table".*?</table>', body)[0].count("<tr>") == 2
    assert ">B2</th>" in body.split('id="new-table"')[1]
    assert ">A1</th>" not in body.split('id="new-table"')[1]


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
        assert _table(page, "unresolved") == [
            [p.upn, f"{p.unresolved_n_sessions:,}", f"{p.oldest_unresolved_n_date:%d %b %Y}"]
            for p in pupils
        ], urn
        unresolved_somewhere += len(pupils)
        provision = {
            re.search(r"\((\w+)", label).group(1): (number(sessions), number(days))
            for label, sessions, days in _table(page, "provision")
        }
        assert provision == truth_pack.provision_sessions(serving_la, last_day, urn), urn
    assert unresolved_somewhere


def _pct(value: Fraction | float | None) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def test_the_headline_and_benchmarks_are_the_true_ones(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    """The counts of the cover, and the school's all-pupil and compulsory-school-age rates
    beside England's published ones (the seed's figures)."""
    with (SEEDS_DIR / "dfe_attendance_benchmarks.csv").open(newline="") as handle:
        england = {
            r["education_phase"]: r for r in csv.DictReader(handle) if r["area_code"] == "E92000001"
        }
    phases = {"primary": "Primary", "secondary": "Secondary", "special": "Special"}
    for urn, page in packs.items():
        school = truth_pack.cohorts(serving_la, last_day, "school", urn)
        pupils = truth_pack.pack_pupils(serving_la, last_day, urn)
        text = " ".join(page.read_text().split())
        for name, value in (
            ("Pupils on roll (enrolments, all ages)", school[("all", "all")]["enrolments"]),
            (
                "Of compulsory school age (5 to 15)",
                school.get(("compulsory_school_age", "true"), {}).get("enrolments", 0),
            ),
            (
                "Persistently absent (all ages)",
                school[("all", "all")]["persistent_absence_enrolments"],
            ),
            ("Severely absent (all ages)", school[("all", "all")]["severe_absence_enrolments"]),
            ("Pupils on the action list", len(pupils)),
            (
                "Newly listed since the last publication",
                sum(p.newly_listed for p in pupils.values()),
            ),
        ):
            assert f"<dt>{name}</dt><dd>{value:,}</dd>" in text, (urn, name)
        rows = {row[0]: row[1:] for row in _table(page, "benchmarks")}
        every = truth_pack.school_rates(serving_la, last_day, urn, compulsory_only=False)
        comparable = truth_pack.school_rates(serving_la, last_day, urn, compulsory_only=True)
        phase = next(s.phase for s in serving_la.schools if s.urn == urn)
        published = england[phases.get(phase, "Total")]
        for measure, key, column in (
            ("Attendance rate", "attendance", "attendance_percent"),
            ("Overall absence rate", "absence", "overall_absence_percent"),
            ("Persistent absence (10% or more missed)", "persistent", "persistent_absence_percent"),
        ):
            shown = rows[measure]
            assert shown[:2] == [_pct(every[key]), _pct(comparable[key])], (urn, measure)
            assert shown[2] == f"{float(published[column]) / 100:.1%}", (urn, measure)


def test_cohorts_and_weeks_are_the_true_ones(
    serving_la: SyntheticLA, last_day: int, packs: dict[str, Path]
) -> None:
    """Each of the school's cohorts beside the LA's, and each school week of the year."""
    la_code = serving_la.config.la_code
    at_la = truth_pack.cohorts(serving_la, last_day, "la", la_code)
    for urn, page in packs.items():
        school = truth_pack.cohorts(serving_la, last_day, "school", urn)
        expected = {}
        for (characteristic, group), row in school.items():
            label = group_label(characteristic, group)
            if characteristic != "all":
                label = f"{CHARACTERISTICS[characteristic]}: {label}"
            la_row = at_la[(characteristic, group)]
            expected[label] = [
                f"{row['enrolments']:,}",
                *(
                    _pct(r[measure])
                    for measure in (
                        "overall_absence_rate",
                        "persistent_absence_rate",
                        "severe_absence_rate",
                    )
                    for r in (row, la_row)
                ),
            ]
        shown = {row[0]: row[1:] for row in _table(page, "cohorts")}
        assert shown == expected, urn
        weeks = truth_pack.weeks(serving_la, last_day, urn)
        assert _table(page, "weeks") == [
            [
                f"Week {w['school_week']}, w/c {w['week_start']:%d %b %Y}",
                f"{w['possible_sessions']:,}",
                _pct(w["attendance_rate"]),
                _pct(w["ytd_attendance_rate"]),
                _pct(w["last_year_ytd_attendance_rate"]),
            ]
            for w in weeks
        ], urn
        assert weeks, urn


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
    than its tables' rows need."""
    urn = max(packs, key=lambda u: len(truth_pack.pack_pupils(serving_la, last_day, u)))
    pdf = print_to_pdf(packs[urn], ARTEFACTS / f"targeting_{urn}.pdf")
    sizes = pdf_pages(pdf)
    assert sizes and all(size == A4_POINTS for size in sizes), sizes
    # At least 8 rows of a table fit on a sheet, however many reasons a pupil has.
    rows = sum(len(table) for table in read_page(packs[urn]).tables.values())
    assert 1 + PARTS <= len(sizes) <= 1 + PARTS + rows // 8, (len(sizes), rows)


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
