"""The pupils of one school's pack, read from the restricted mart `pupils_for_support`.

Each listed enrolment is shown once, in the first of the pack's lists it belongs to: severe
absence, then persistent absence, then listed for another reason. The reasons are said in
words for the attendance officer who reads them (docs/usage.md, "Targeting meeting packs").
"""

from dataclasses import dataclass
from datetime import date

import duckdb

# The flags of pupils_for_support in words, in the order a reader acts on them.
REASONS = {
    "severe_absence": "Severely absent: missed half or more of the sessions this year",
    "illness_15_days": "Ill for 15 school days or more this year (the LA's section 19 duty)",
    "support_first": "Reached the penalty threshold and has SEN support or an EHC plan: "
    "support first",
    "penalty_threshold": "10 or more unauthorised sessions within 10 school weeks "
    "(penalty threshold)",
    "persistent_absence": "Persistently absent: missed 10% or more of the sessions this year",
    "unresolved_n": "A reason for absence (N) still not established after 5 school days",
}


@dataclass(frozen=True)
class ListedPupil:
    upn: str
    ncy: str | None
    sen_provision: str | None
    possible_sessions: int
    absence_rate: float
    severe: bool
    persistent: bool
    reasons: tuple[str, ...]
    unresolved_n_sessions: int
    oldest_unresolved_n_date: date | None

    @property
    def absence_percent(self) -> str:
        return f"{self.absence_rate:.1%}"


@dataclass(frozen=True)
class Listed:
    """The school's listed pupils, in the pack's order (highest absence first)."""

    pupils: tuple[ListedPupil, ...]

    @property
    def severe(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if p.severe)

    @property
    def persistent(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if p.persistent and not p.severe)

    @property
    def other(self) -> tuple[ListedPupil, ...]:
        return tuple(p for p in self.pupils if not (p.persistent or p.severe))

    @property
    def unresolved_n(self) -> tuple[ListedPupil, ...]:
        return tuple(
            sorted(
                (p for p in self.pupils if p.unresolved_n_sessions),
                key=lambda p: (p.oldest_unresolved_n_date, p.upn),
            )
        )


def listed(con: duckdb.DuckDBPyConnection, urn: str) -> Listed:
    """The enrolments of `urn` on the action list of the publication's latest year."""
    flags = ", ".join(REASONS)
    rows = con.execute(
        f"select support.upn, attendance.ncy, support.sen_provision, support.possible_sessions,"
        f" support.overall_absence_rate, support.unresolved_n_sessions,"
        f" support.oldest_unresolved_n_date, {flags}"
        " from pupils_for_support as support"
        " left join pupil_attendance as attendance using (urn, upn, academic_year)"
        " where support.urn = ?"
        " and support.academic_year = (select max(academic_year) from pupils_for_support)"
        " order by support.overall_absence_rate desc, support.upn",
        [urn],
    ).fetchall()
    pupils = []
    for upn, ncy, sen, possible, rate, unresolved, oldest, *flagged in rows:
        on = dict(zip(REASONS, flagged, strict=True))
        pupils.append(
            ListedPupil(
                upn=upn,
                ncy=ncy,
                sen_provision=sen,
                possible_sessions=int(possible),
                absence_rate=float(rate),
                severe=bool(on["severe_absence"]),
                persistent=bool(on["persistent_absence"]),
                reasons=_reasons(on),
                unresolved_n_sessions=int(unresolved),
                oldest_unresolved_n_date=oldest,
            )
        )
    return Listed(tuple(pupils))


def _reasons(on: dict[str, bool]) -> tuple[str, ...]:
    # Support first says the penalty threshold was reached, severe absence says persistent
    # absence too: neither is said twice.
    said = {flag for flag, value in on.items() if value}
    if "support_first" in said:
        said.discard("penalty_threshold")
    if "severe_absence" in said:
        said.discard("persistent_absence")
    return tuple(words for flag, words in REASONS.items() if flag in said)
