import pytest

from ingestion.rules.upn import check_letter, make_upn, upn_problem


@pytest.mark.parametrize(
    "upn", ["B801200005001", "A950000178301", "H243278544154", "X00180001701A"]
)
def test_valid_upns_from_domain_notes(upn: str) -> None:
    assert upn_problem(upn) is None


@pytest.mark.parametrize("upn", ["R247962919251", "X428558133462"])
def test_invalid_check_letters_are_named(upn: str) -> None:
    problem = upn_problem(upn)
    assert problem is not None and "check letter" in problem


def test_worked_example_sum() -> None:
    # B801200005001: weighted sum 93, 93 mod 23 = 1 -> B
    body = "801200005001"
    assert sum(int(c) * w for w, c in enumerate(body, start=2)) == 93
    assert check_letter(body) == "B"


@pytest.mark.parametrize(
    "upn", ["B80120000500", "B8012000050011", "b801200005001x", "B80120000500I"]
)
def test_malformed_upns(upn: str) -> None:
    assert upn_problem(upn) is not None


def test_generated_upns_are_valid() -> None:
    assert upn_problem(make_upn("881", "2001", 2025, 17)) is None
