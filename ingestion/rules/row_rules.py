"""Row rules of the extract contract (docs/feed.md): each row becomes a clean record or a
reason a data manager can act on."""

import re
from datetime import date, datetime
from typing import Any

from ingestion.contract import FileKind
from ingestion.rules.register_codes import category_of, code_set_for
from ingestion.rules.upn import upn_problem

SEN_PROVISIONS = frozenset({"N", "K", "E"})
PRIMARY_NEEDS = frozenset(
    {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA"}
)
NCY_VALUES = frozenset({"N1", "N2", "R"} | {str(n) for n in range(1, 15)})
PHASES = frozenset({"primary", "secondary", "special", "all-through", "ap"})
TRUE_VALUES = frozenset({"true", "1", "y", "yes"})
FALSE_VALUES = frozenset({"false", "0", "n", "no"})

_URN = re.compile(r"^[0-9]{6}$")
_LA_CODE = re.compile(r"^[0-9]{3}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class RowInvalid(Exception):
    """The row breaks a rule of the extract contract; the message says which and how to fix it."""


Record = dict[str, Any]


def clean_row(kind: FileKind, values: dict[str, str]) -> Record:
    """The row as typed values, or RowInvalid naming the first rule it breaks."""
    v = {k: (values.get(k) or "").strip() for k in kind.known_columns}
    cleaners = {"schools": _school, "pupils": _pupil, "marks": _mark}
    return cleaners[kind.name](v)


def _school(v: dict[str, str]) -> Record:
    phase = v["phase"].lower()
    if phase and phase not in PHASES:
        raise RowInvalid(f"phase {v['phase']!r} is not one of {', '.join(sorted(PHASES))}")
    return {
        "urn": _urn(v),
        "la_code": _required(v, "la_code", _LA_CODE, "3 digits"),
        "name": _required(v, "name"),
        "phase": phase or None,
    }


def _pupil(v: dict[str, str]) -> Record:
    provision = v["sen_provision"].upper()
    need = v["sen_primary_need"].upper()
    if provision not in SEN_PROVISIONS:
        raise RowInvalid(f"sen_provision {v['sen_provision']!r} is not N, K or E")
    if need and need not in PRIMARY_NEEDS:
        raise RowInvalid(f"sen_primary_need {v['sen_primary_need']!r} is not a need code")
    if provision in ("K", "E") and not need:
        raise RowInvalid(f"sen_primary_need is missing, but is required for provision {provision}")
    if need == "NSA" and provision != "K":
        raise RowInvalid("sen_primary_need NSA is only used with SEN support (provision K)")
    sex = v["sex"].upper()
    if sex and sex not in ("M", "F"):
        raise RowInvalid(f"sex {v['sex']!r} is not M or F")
    ncy = v["ncy"].upper()
    if ncy and ncy not in NCY_VALUES:
        raise RowInvalid(f"ncy {v['ncy']!r} is not a national curriculum year (N1, N2, R, 1-14)")
    admission = _date(v, "admission_date", required=True)
    leaving = _date(v, "leaving_date")
    if leaving is not None and admission is not None and leaving < admission:
        raise RowInvalid(f"leaving_date {leaving} is before admission_date {admission}")
    extracted_at = _timestamp(v, "extracted_at", required=True)
    return {
        "urn": _urn(v),
        "upn": _upn(v),
        "date_of_birth": _date(v, "date_of_birth", required=True),
        "sex": sex or None,
        "ncy": ncy or None,
        "admission_date": admission,
        "leaving_date": leaving,
        "sen_provision": provision,
        "sen_primary_need": need or None,
        "fsm_eligible": _bool(v, "fsm_eligible"),
        "looked_after": _bool(v, "looked_after"),
        "child_in_need": _bool(v, "child_in_need"),
        "child_protection_plan": _bool(v, "child_protection_plan"),
        "effective_date": _date(v, "effective_date") or extracted_at.date(),
        "extracted_at": extracted_at,
    }


def _mark(v: dict[str, str]) -> Record:
    urn, upn = _urn(v), _upn(v)
    session_date = _date(v, "session_date", required=True)
    extracted_at = _timestamp(v, "extracted_at", required=True)
    if session_date.weekday() >= 5:
        raise RowInvalid(f"session_date {session_date} is a {session_date:%A}, not a school day")
    if session_date > extracted_at.date():
        raise RowInvalid(
            f"session_date {session_date} is after the extract was taken ({extracted_at:%Y-%m-%d})"
        )
    session = v["session"].upper()
    if session not in ("AM", "PM"):
        raise RowInvalid(f"session {v['session']!r} is not AM or PM")
    code = v["code"]
    if code and category_of(code, session_date) is None:
        code_set = "2024" if code_set_for(session_date) == "2024" else "pre-2024"
        raise RowInvalid(
            f"code {code!r} is not a register code of the {code_set} set for {session_date}"
        )
    last_modified = _timestamp(v, "last_modified")
    return {
        "urn": urn,
        "upn": upn,
        "session_date": session_date,
        "session": session,
        "code": code or None,
        "minutes_late": _minutes_late(v),
        "last_modified": last_modified,
        "extracted_at": extracted_at,
        "transaction_time": last_modified or extracted_at,
    }


def _required(
    v: dict[str, str], column: str, shape: re.Pattern | None = None, described: str = ""
) -> str:
    value = v[column]
    if not value:
        raise RowInvalid(f"{column} is missing")
    if shape is not None and not shape.match(value):
        raise RowInvalid(f"{column} {value!r} is not {described}")
    return value


def _urn(v: dict[str, str]) -> str:
    return _required(v, "urn", _URN, "a 6-digit URN")


def _upn(v: dict[str, str]) -> str:
    upn = _required(v, "upn").upper()
    problem = upn_problem(upn)
    if problem:
        raise RowInvalid(problem)
    return upn


def _date(v: dict[str, str], column: str, required: bool = False) -> date | None:
    value = v[column]
    if not value:
        if required:
            raise RowInvalid(f"{column} is missing")
        return None
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise RowInvalid(f"{column} {value!r} is not a date in the form YYYY-MM-DD") from None


def _timestamp(v: dict[str, str], column: str, required: bool = False) -> datetime | None:
    value = v[column]
    if not value:
        if required:
            raise RowInvalid(f"{column} is missing")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowInvalid(
            f"{column} {value!r} is not an ISO 8601 timestamp (e.g. 2025-09-15T16:05:00+01:00)"
        ) from None
    if parsed.tzinfo is None:
        raise RowInvalid(f"{column} {value!r} has no UTC offset (add e.g. +01:00 or Z)")
    return parsed


def _bool(v: dict[str, str], column: str) -> bool | None:
    value = v[column].lower()
    if not value:
        return None
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise RowInvalid(f"{column} {v[column]!r} is not true/false (or 1/0, Y/N)")


# A generous bound (a whole day): anything above is a keying error, and it must not reach the
# store's integer column (a 10-digit value would not fit).
MAX_MINUTES_LATE = 1440


def _minutes_late(v: dict[str, str]) -> int | None:
    minutes = _integer(v, "minutes_late")
    if minutes is not None and not 0 <= minutes <= MAX_MINUTES_LATE:
        raise RowInvalid(
            f"minutes_late {v['minutes_late']!r} is out of range: minutes late lie between 0 "
            f"and {MAX_MINUTES_LATE}"
        )
    return minutes


def _integer(v: dict[str, str], column: str) -> int | None:
    value = v[column]
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise RowInvalid(f"{column} {value!r} is not a whole number") from None
