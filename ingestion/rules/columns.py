"""The rules of single columns, in SQL: each column's verdict is worked out once per distinct
value in the round (a round's marks have a handful of dates and each UPN about ten times), in
a small table the rows are then joined to.

A column's table has the value as delivered (`value`), typed values (`ColumnCheck.values`)
and reasons (`ColumnCheck.reasons`): each the reason a rule of the column gives, or NULL. The
kinds' modules list the reasons in the order they are checked; a reason only has to be right
when every reason before it is NULL (the value is then known to have the right shape).
"""

from dataclasses import dataclass
from datetime import date, datetime

from ingestion.rules.sql_text import (
    as_text,
    date_literal,
    echo,
    first,
    listed,
    literal,
    stripped,
    structured,
    when,
)
from ingestion.rules.upn import CHECK_ALPHABET, check_letter_sql

TRUE_VALUES = frozenset({"true", "1", "y", "yes"})
FALSE_VALUES = frozenset({"false", "0", "n", "no"})
# A generous bound (a whole day): anything above is a keying error, and it must not reach the
# store's integer column (a 10-digit value would not fit).
MAX_MINUTES_LATE = 1440

_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?"
_OFFSET = "(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"


@dataclass(frozen=True)
class ColumnCheck:
    """One column's rules. `values` and `reasons` are SQL on `v`, the value without surrounding
    white space; `reasons` may also use the `values` by name."""

    column: str
    values: dict[str, str]
    reasons: dict[str, str]

    @property
    def table(self) -> str:
        return f"_rule_{self.column}"

    def create_sql(self, source: str) -> str:
        """Create the column's table of verdicts, one row per distinct value in `source`."""
        values = "".join(f", {sql} as {name}" for name, sql in self.values.items())
        reasons = "".join(f", {sql} as {name}" for name, sql in self.reasons.items())
        distinct = f'select distinct "{self.column}" as value from {source}'
        return (
            f"create or replace temp table {self.table} as "
            f"select value{values}{reasons} from ("
            f"select value, {stripped('value')} as v from ({distinct}))"
        )


def _said(*parts: str) -> str:
    """A reason: literal text and SQL expressions, joined (`'...'` parts are SQL already)."""
    return " || ".join(parts)


def _json(column: str) -> tuple[str, str]:
    return structured("v"), literal(f"{column} holds a JSON object or list, not a value")


def _missing(column: str) -> tuple[str, str]:
    return "v = ''", literal(f"{column} is missing")


def _bad(column: str, shown: str, described: str) -> str:
    return _said(literal(f"{column} "), echo(shown), literal(f" {described}"))


def text(column: str, shape: str | None = None, described: str = "") -> ColumnCheck:
    """A required text value, of a shape (an RE2 pattern the whole value matches) if given."""
    cases = [_json(column), _missing(column)]
    if shape is not None:
        cases.append((f"not regexp_full_match(v, {literal(shape)})", _bad(column, "v", described)))
    return ColumnCheck(column, {"v": "v"}, {"shape": first(*cases)})


def urn() -> ColumnCheck:
    return text("urn", "[0-9]{6}", "is not a 6-digit URN")


def choice(
    column: str, allowed: frozenset[str], described: str, required: bool = False
) -> ColumnCheck:
    """One of `allowed` in any case, stored in capitals; blank allowed unless `required` (a
    blank is then "not one of them", as the reason for sen_provision has always said)."""
    given = "true" if required else "v <> ''"
    return ColumnCheck(
        column,
        {"v": "v", "up": "upper(v)"},
        {
            "shape": first(
                _json(column),
                (f"{given} and upper(v) not in {listed(allowed)}", _bad(column, "v", described)),
            )
        },
    )


def phase(phases: frozenset[str]) -> ColumnCheck:
    """A school's phase, in any case, stored in lower case."""
    described = f"is not one of {', '.join(sorted(phases))}"
    return ColumnCheck(
        "phase",
        {"low": "lower(v)"},
        {
            "shape": first(
                _json("phase"),
                (f"v <> '' and lower(v) not in {listed(phases)}", _bad("phase", "v", described)),
            )
        },
    )


def flag(column: str) -> ColumnCheck:
    value = (
        f"case when lower(v) in {listed(TRUE_VALUES)} then true "
        f"when lower(v) in {listed(FALSE_VALUES)} then false end"
    )
    return ColumnCheck(
        column,
        {"b": value},
        {
            "shape": first(
                _json(column),
                ("v <> '' and b is null", _bad(column, "v", "is not true/false (or 1/0, Y/N)")),
            )
        },
    )


def upn() -> ColumnCheck:
    """A UPN in any case, stored in capitals, with the right check letter (upn.upn_problem)."""
    up = "upper(v)"
    expected = check_letter_sql(up, start=2)
    return ColumnCheck(
        "upn",
        {"up": up},
        {
            "shape": first(
                _json("upn"),
                _missing("upn"),
                (
                    "not regexp_full_match(up, '[A-Z][0-9]{11}[0-9A-Z]')",
                    _said(
                        "'UPN '",
                        echo("up"),
                        literal(
                            " is not 13 characters of the form letter, 11 digits, then a digit "
                            "or letter"
                        ),
                    ),
                ),
                (
                    f"regexp_full_match(right(up, 1), '[A-Z]') "
                    f"and strpos({literal(CHECK_ALPHABET)}, right(up, 1)) = 0",
                    _said(
                        "'UPN '",
                        echo("up"),
                        "' ends in ''' || right(up, 1) || ''', which is not used in UPNs "
                        "(no I, O or S)'",
                    ),
                ),
                (
                    f"{expected} <> left(up, 1)",
                    _said(
                        "'UPN '",
                        echo("up"),
                        f"' fails its check letter: expected ''' || {expected} "
                        "|| ''', found ''' || left(up, 1) || ''''",
                    ),
                ),
            )
        },
    )


def _opening(column: str, required: bool) -> list:
    """The first reasons of a date or timestamp column: a JSON value, then a missing one."""
    return [_json(column), _missing(column)] if required else [_json(column)]


def calendar_date(column: str, required: bool = False, earliest: date | None = None) -> ColumnCheck:
    """A date YYYY-MM-DD (`d`); `earliest`: the reason `early` when before it."""
    value = (
        f"case when regexp_full_match(v, '{_DATE}') and left(v, 4) <> '0000' "
        "then try_cast(v as date) end"
    )
    cases = _opening(column, required)
    cases.append(
        ("v <> '' and d is null", _bad(column, "v", "is not a date in the form YYYY-MM-DD"))
    )
    reasons = {"shape": first(*cases)}
    if earliest is not None:
        reasons["early"] = when(
            f"d < {date_literal(earliest)}",
            _said(
                literal(f"{column} "),
                as_text("d"),
                literal(f" is before {earliest.isoformat()}, the earliest date accepted"),
            ),
        )
    return ColumnCheck(column, {"d": value}, reasons)


def timestamp(column: str, latest: datetime, required: bool = False) -> ColumnCheck:
    """An ISO 8601 date and time with a UTC offset (`ts`; `day`: its date in its own offset);
    the reason `future` when after `latest`."""
    valid_date = "left(v, 4) <> '0000' and try_cast(left(v, 10) as date) is not null"
    value = (
        f"case when regexp_full_match(v, '{_DATE}[T ]{_TIME}{_OFFSET}') and {valid_date} "
        "then try_cast(v as timestamptz) end"
    )
    cases = _opening(column, required)
    cases += [
        (
            f"regexp_full_match(v, '{_DATE}[T ]{_TIME}') and {valid_date}",
            _bad(column, "v", "has no UTC offset (add e.g. +01:00 or Z)"),
        ),
        (
            "v <> '' and ts is null",
            _bad(column, "v", "is not an ISO 8601 timestamp (e.g. 2025-09-15T16:05:00+01:00)"),
        ),
    ]
    moment = latest.isoformat(timespec="seconds")
    return ColumnCheck(
        column,
        {"ts": value, "day": "case when ts is not null then cast(left(v, 10) as date) end"},
        {
            "shape": first(*cases),
            "future": when(
                f"ts > timestamptz '{moment}'",
                _bad(
                    column,
                    "v",
                    "is more than a day in the future "
                    f"(after {moment}, a day after the time of ingest)",
                ),
            ),
        },
    )


def whole_number(column: str, lowest: int, highest: int, described: str) -> ColumnCheck:
    """A whole number (ASCII digits, an optional sign) from `lowest` to `highest` (`n`)."""
    digits = "ltrim(ltrim(v, '+-'), '0')"
    whole = "regexp_full_match(v, '[+-]?[0-9]+')"
    return ColumnCheck(
        column,
        {
            "whole": whole,
            "n": f"case when {whole} and length({digits}) <= 9 then cast(v as integer) end",
        },
        {
            "shape": first(
                _json(column),
                ("v <> '' and not whole", _bad(column, "v", "is not a whole number")),
                (
                    f"whole and (n is null or n not between {lowest} and {highest})",
                    _bad(column, "v", described),
                ),
            )
        },
    )


def register_code(codes: dict[str, frozenset[str]]) -> ColumnCheck:
    """A code in any case, stored in capitals; `in_<set>`: whether it is a code of each set
    (the rule across columns picks the set by the session's date)."""
    values = {"v": "v", "up": "upper(v)"}
    for code_set, known in codes.items():
        values[f"in_{code_set}"] = f"upper(v) in {listed(known)}"
    return ColumnCheck("code", values, {"shape": first(_json("code"))})
