"""Pieces of SQL the row rules are written with: literals, the value as Python's `str.strip`
leaves it, and the value at fault as a reason echoes it."""

from collections.abc import Iterable
from datetime import date

# Every character Python's str.isspace() counts: `trim` strips what `str.strip()` strips.
WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
# A reason echoes at most this many characters of the value at fault.
ECHO_LIMIT = 60


def literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def date_literal(day: date) -> str:
    return f"date '{day.isoformat()}'"


def listed(values: Iterable[str]) -> str:
    """An SQL list of the values, for `in`."""
    return "(" + ", ".join(literal(v) for v in sorted(values)) + ")"


def stripped(expression: str) -> str:
    """The value without surrounding white space, as the rules read it."""
    return f"trim({expression}, {literal(WHITESPACE)})"


def echo(expression: str) -> str:
    """The value at fault as a reason quotes it: in single quotes (a quote inside doubled),
    cut to ECHO_LIMIT characters and an ellipsis."""
    cut = (
        f"case when length({expression}) > {ECHO_LIMIT} "
        f"then left({expression}, {ECHO_LIMIT}) || '…' else {expression} end"
    )
    return f"('''' || replace({cut}, '''', '''''') || '''')"


def structured(expression: str) -> str:
    """The value is a JSON object or list (a JSON Lines field that was not a plain value)."""
    return f"(left({expression}, 1) in ('{{', '[') and json_valid({expression}))"


def when(condition: str, reason: str) -> str:
    """The reason when the condition holds, else NULL."""
    return f"case when {condition} then {reason} end"


def first(*cases: tuple[str, str]) -> str:
    """The reason of the first (condition, reason) that holds, else NULL."""
    branches = " ".join(f"when {condition} then {reason}" for condition, reason in cases)
    return f"case {branches} end"


def as_text(expression: str) -> str:
    """A date as YYYY-MM-DD."""
    return f"strftime({expression}, '%Y-%m-%d')"
