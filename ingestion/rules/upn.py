"""Unique Pupil Number (UPN) check letter, as set out in DfE's UPN guidance (docs/domain.md)."""

import re

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")


def check_letter(body: str) -> str:
    """The check letter for the 12 characters that follow it (LA, establishment, year, serial)."""
    total = 0
    for weight, char in enumerate(body, start=2):
        if char.isdigit():
            value = int(char)
        else:
            # A temporary UPN ends in a letter, valued by its place in the check alphabet.
            value = CHECK_ALPHABET.index(char)
        total += value * weight
    return CHECK_ALPHABET[total % 23]


def check_letter_sql(body: str, start: int = 1) -> str:
    """`check_letter` in SQL, of the 12 characters of the SQL text `body` from position
    `start`: 11 digits and a last digit or letter (valued by its place in the check alphabet).
    Only for a body of that shape (anything else gives a letter or null, not an error)."""
    values = [f"(ascii(substr({body}, {start + i}, 1)) - 48) * {i + 2}" for i in range(11)]
    last = f"substr({body}, {start + 11}, 1)"
    values.append(
        f"(case when {last} between '0' and '9' then ascii({last}) - 48 "
        f"else strpos('{CHECK_ALPHABET}', {last}) - 1 end) * 13"
    )
    return f"substr('{CHECK_ALPHABET}', ((({' + '.join(values)}) % 23) + 23) % 23 + 1, 1)"


def upn_problem(upn: str) -> str | None:
    """Why a UPN is not valid, in words for a school data manager; None when it is valid."""
    if not _SHAPE.match(upn):
        return (
            f"UPN {upn!r} is not 13 characters of the form letter, 11 digits, then a digit "
            "or letter"
        )
    if upn[12].isalpha() and upn[12] not in CHECK_ALPHABET:
        return f"UPN {upn!r} ends in {upn[12]!r}, which is not used in UPNs (no I, O or S)"
    expected = check_letter(upn[1:])
    if upn[0] != expected:
        return f"UPN {upn!r} fails its check letter: expected {expected!r}, found {upn[0]!r}"
    return None


def make_upn(la_code: str, establishment: str, year: int, serial: int) -> str:
    """A valid permanent UPN for the given parts (used by the synthetic generator)."""
    body = f"{la_code}{establishment}{year % 100:02d}{serial:03d}"
    return check_letter(body) + body
