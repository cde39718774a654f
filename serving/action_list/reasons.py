"""Why a pupil is on the action list, in an attendance officer's words.

`reasons(row)` takes a row of pupils_for_support (a mapping of its columns) and returns one
sentence per flag, the most urgent first, in the order of `priority` (docs/models.md,
"Action list priority"). The school's targeting pack and the CSV export both use it.
"""

from collections.abc import Mapping
from typing import Any

# Flags in the order that decides priority, each with what the officer reads.
REASONS: tuple[tuple[str, str], ...] = (
    ("severe_absence", "Severe absence: missed half or more of sessions"),
    (
        "illness_15_days",
        "Ill for 15 school days or more: the LA must arrange education (s19)",
    ),
    (
        "unauthorised_10_school_days",
        "10 school days in a row without authorisation (report to LA)",
    ),
    ("support_first", "Support first: SEN and at the penalty threshold"),
    (
        "penalty_threshold",
        "At the penalty threshold: 10 unauthorised sessions within 10 school weeks",
    ),
    ("persistent_absence", "Persistent absence: missed 1 session in 10 or more"),
    (
        "part_time_timetable",
        "Part-time timetable in each of the last 3 school weeks (should be time-limited: review)",
    ),
    (
        "unresolved_n",
        "Reason for absence not given (code N) after 5 school days: ask the school",
    ),
)
# A flag whose sentence another flag's already says in stronger words.
IMPLIED_BY = {"persistent_absence": "severe_absence", "penalty_threshold": "support_first"}


def reasons(row: Mapping[str, Any]) -> list[str]:
    """The sentences for the flags set in `row`, the most urgent first."""
    return [
        text
        for flag, text in REASONS
        if row.get(flag) and not row.get(IMPLIED_BY.get(flag, ""), False)
    ]


def reasons_text(row: Mapping[str, Any]) -> str:
    """`reasons(row)` in one cell: sentences separated by "; "."""
    return "; ".join(reasons(row))


def percent(rate: float | None) -> str:
    """A fraction as a percentage with one decimal ("12.5%"); blank when unknown."""
    return "" if rate is None else f"{rate * 100:.1f}%"
