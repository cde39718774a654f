"""Register codes: the seed's categories agree with DOMAIN.md's (as the tests write them out,
tests/support/truth/registers.py), and the code set changes on 19 August 2024."""

from datetime import date

import pytest

from ingestion.rules.register_codes import (
    CODE_SET_2024_FROM,
    POSSIBLE_CATEGORIES,
    category_of,
    code_categories,
    code_set_for,
)
from synthetic import SyntheticLA
from tests.support.truth import registers as truth

BEFORE, FROM = date(2024, 8, 18), date(2024, 8, 19)
CATEGORIES_2024 = {
    "present": truth.PRESENT,
    "aea": truth.AEA,
    "authorised": truth.AUTHORISED,
    "unauthorised": truth.UNAUTHORISED,
    "not_possible": truth.NOT_POSSIBLE,
    "administrative": truth.ADMINISTRATIVE,
}


def test_the_2024_code_set_starts_on_19_august_2024() -> None:
    assert CODE_SET_2024_FROM == FROM
    assert code_set_for(BEFORE) == "pre2024"
    assert code_set_for(FROM) == "2024"
    assert code_set_for(date(2025, 9, 1)) == "2024"
    assert code_set_for(date(2019, 9, 2)) == "pre2024"


def test_every_2024_code_has_its_domain_category_and_the_seed_has_no_other() -> None:
    seed_2024 = {
        code: cat for (code_set, code), cat in code_categories().items() if code_set == "2024"
    }
    expected = {code: name for name, codes in CATEGORIES_2024.items() for code in codes}
    assert seed_2024 == expected
    for code, name in expected.items():
        assert category_of(code, FROM) == name, code


def test_possible_sessions_are_those_of_the_four_counted_categories() -> None:
    counted = {name for name, codes in CATEGORIES_2024.items() if codes <= truth.POSSIBLE}
    assert POSSIBLE_CATEGORIES == counted == {"present", "aea", "authorised", "unauthorised"}


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [
        # Codes only one set has.
        ("H", "authorised", None),
        ("J", "aea", None),
        ("Y", "not_possible", None),
        ("J1", None, "authorised"),
        ("C2", None, "authorised"),
        ("Y4", None, "not_possible"),
        # Codes both sets have (in the same category), and one neither has.
        ("B", "aea", "aea"),
        ("/", "present", "present"),
        ("N", "unauthorised", "unauthorised"),
        ("ZZ", None, None),
    ],
)
def test_a_code_is_read_in_the_set_in_force_on_its_date(
    code: str, before: str | None, after: str | None
) -> None:
    assert category_of(code, BEFORE) == before
    assert category_of(code, FROM) == after


def test_every_code_the_generator_writes_has_the_category_the_truth_gives_it(
    tiny_la: SyntheticLA,
) -> None:
    written = set()
    for (_urn, _upn, day, _session), mark in tiny_la.marks.items():
        for code in [mark.code, *(amended for _, amended, _ in mark.amendments)]:
            written.add((code, day))
    assert len({code for code, _ in written}) > 5
    for code, day in written:
        if code:  # a blank is a mark not yet taken, not a code
            assert category_of(code, day) == truth.category(code), (code, day)
