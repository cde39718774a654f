"""The action list's reasons read as an attendance officer would write them."""

from serving.action_list.reasons import REASONS, percent, reasons, reasons_text
from tests.support.truth.action_list import PRIORITY_ORDER


def test_the_reasons_follow_the_priority_order() -> None:
    assert tuple(flag for flag, _ in REASONS) == PRIORITY_ORDER


def test_each_flag_in_words_the_stronger_one_alone() -> None:
    row = {flag: False for flag in PRIORITY_ORDER}
    ten_days = {**row, "unauthorised_10_school_days": True, "unresolved_n": True}
    assert reasons(ten_days) == [
        "10 school days in a row without authorisation (report to LA)",
        "Reason for absence not given (code N) after 5 school days: ask the school",
    ]
    # Severe absence says what persistent absence would; support first, the penalty threshold.
    severe = {**row, "severe_absence": True, "persistent_absence": True}
    assert reasons_text(severe) == "Severe absence: missed half or more of sessions"
    support = {**row, "support_first": True, "penalty_threshold": True}
    assert reasons(support) == ["Support first: SEN and at the penalty threshold"]
    assert reasons(row) == []


def test_rates_are_percentages_with_one_decimal() -> None:
    assert percent(0.125) == "12.5%"
    assert percent(0.1) == "10.0%"
    assert percent(1.0) == "100.0%"
    assert percent(None) == ""
