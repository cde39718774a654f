"""Each kind's row rules in the order they are checked, and its typed event columns.

A row's reason is the first rule it breaks. The rules of one column come from `columns.py`
(`c_<column>.<reason>`); the rules across columns are written here, over the columns'
typed values and the source row `s` (its `file_urn` and `extract_time`).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ingestion.rules import columns as col
from ingestion.rules.register_codes import CODE_SET_2024_FROM, code_categories
from ingestion.rules.sql_text import as_text, date_literal, echo, literal, when

SEN_PROVISIONS = frozenset({"N", "K", "E"})
PRIMARY_NEEDS = frozenset(
    {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA"}
)
NCY_VALUES = frozenset({"N1", "N2", "R"} | {str(n) for n in range(1, 15)})
PHASES = frozenset({"primary", "secondary", "special", "all-through", "ap"})
# An extract may be stamped this far ahead of the time of ingest (clocks drift), no further.
FUTURE_ALLOWANCE = timedelta(days=1)


@dataclass(frozen=True)
class DateLimits:
    """The plausible dates (docs/feed.md, rule 5). `first_session_date`: the first date the
    deployment covers (a session before it is quarantined)."""

    first_session_date: date = date(2006, 9, 1)
    earliest_birth_date: date = date(1990, 1, 1)
    earliest_admission_date: date = date(1990, 1, 1)


@dataclass(frozen=True)
class KindRules:
    """A kind's column checks, its reasons in order (SQL, NULL when the rule holds) and its
    typed columns (event column -> SQL)."""

    columns: tuple[col.ColumnCheck, ...]
    steps: tuple[str, ...]
    typed: dict[str, str] = field(default_factory=dict)


def codes_by_set() -> dict[str, frozenset[str]]:
    """The register codes of each code set, refusing a seed where two codes differ only by
    case (codes are read in any case)."""
    by_set: dict[str, set[str]] = {}
    for code_set, code in code_categories():
        by_set.setdefault(code_set, set()).add(code)
    for code_set, codes in by_set.items():
        if len({code.upper() for code in codes}) < len(codes):
            raise ValueError(f"register codes of the {code_set} set differ only by case")
    return {code_set: frozenset(codes) for code_set, codes in by_set.items()}


def _of(column: str, reason: str = "shape") -> str:
    return f"c_{column}.{reason}"


def _same_school() -> str:
    return when(
        "s.file_urn is not null and c_urn.v <> s.file_urn",
        "'the row is for school ' || c_urn.v || ' but the extract is school ' "
        "|| s.file_urn || '''s'",
    )


def schools_rules() -> KindRules:
    return KindRules(
        (
            col.phase(PHASES),
            col.urn(),
            col.text("la_code", "[0-9]{3}", "is not 3 digits"),
            col.text("name"),
        ),
        (_of("phase"), _of("urn"), _same_school(), _of("la_code"), _of("name")),
        {
            "urn": "c_urn.v",
            "la_code": "c_la_code.v",
            "school_name": "c_name.v",
            "phase": "nullif(c_phase.low, '')",
            "transaction_time": "s.extract_time",
            "extracted_at": "s.extract_time",
        },
    )


def _latest(now: datetime) -> datetime:
    """The latest time an extract may carry: `now` (UTC if naive) and the allowance."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC) + FUTURE_ALLOWANCE


def _flags() -> tuple[str, ...]:
    return ("fsm_eligible", "looked_after", "child_in_need", "child_protection_plan")


def pupils_rules(now: datetime, limits: DateLimits) -> KindRules:
    latest = _latest(now)
    checks = (
        col.choice("sen_provision", SEN_PROVISIONS, "is not N, K or E", required=True),
        col.choice("sen_primary_need", PRIMARY_NEEDS, "is not a need code"),
        col.choice("sex", frozenset({"M", "F"}), "is not M or F"),
        col.choice("ncy", NCY_VALUES, "is not a national curriculum year (N1, N2, R, 1-14)"),
        col.calendar_date("admission_date", True, limits.earliest_admission_date),
        col.calendar_date("leaving_date"),
        col.timestamp("extracted_at", latest, required=True),
        col.urn(),
        col.upn(),
        col.calendar_date("date_of_birth", True, limits.earliest_birth_date),
        *(col.flag(name) for name in _flags()),
        col.calendar_date("effective_date"),
    )
    birth, admission = "c_date_of_birth.d", "c_admission_date.d"
    steps = (
        _of("sen_provision"),
        _of("sen_primary_need"),
        when(
            "c_sen_provision.up in ('K', 'E') and c_sen_primary_need.v = ''",
            "'sen_primary_need is missing, but is required for provision ' || c_sen_provision.up",
        ),
        when(
            "c_sen_primary_need.up = 'NSA' and c_sen_provision.up <> 'K'",
            literal("sen_primary_need NSA is only used with SEN support (provision K)"),
        ),
        _of("sex"),
        _of("ncy"),
        _of("admission_date"),
        _of("admission_date", "early"),
        _of("leaving_date"),
        when(
            f"c_leaving_date.d < {admission}",
            f"'leaving_date ' || {as_text('c_leaving_date.d')} || ' is before admission_date ' "
            f"|| {as_text(admission)}",
        ),
        _of("extracted_at"),
        _of("extracted_at", "future"),
        _of("urn"),
        _same_school(),
        _of("upn"),
        _of("date_of_birth"),
        _of("date_of_birth", "early"),
        when(
            f"{birth} > c_extracted_at.day",
            f"'date_of_birth ' || {as_text(birth)} || ' is after the extract was taken (' "
            f"|| {as_text('c_extracted_at.day')} || ')'",
        ),
        when(
            f"{birth} >= {admission}",
            f"'date_of_birth ' || {as_text(birth)} || ' is not before admission_date ' "
            f"|| {as_text(admission)}",
        ),
        *(_of(name) for name in _flags()),
        _of("effective_date"),
    )
    typed = {
        "urn": "c_urn.v",
        "upn": "c_upn.up",
        "date_of_birth": birth,
        "sex": "nullif(c_sex.up, '')",
        "ncy": "nullif(c_ncy.up, '')",
        "admission_date": admission,
        "leaving_date": "c_leaving_date.d",
        "sen_provision": "c_sen_provision.up",
        "sen_primary_need": "nullif(c_sen_primary_need.up, '')",
        **{name: f"c_{name}.b" for name in _flags()},
        # The valid time: the row's effective_date, else its extract's date (in its offset).
        "valid_from": "coalesce(c_effective_date.d, c_extracted_at.day)",
        "transaction_time": "c_extracted_at.ts",
        "extracted_at": "c_extracted_at.ts",
    }
    return KindRules(checks, steps, typed)


def _session_date(limits: DateLimits) -> col.ColumnCheck:
    check = col.calendar_date("session_date", True, limits.first_session_date)
    weekday = when(
        "isodow(d) > 5",
        f"'session_date ' || {as_text('d')} || ' is a ' || dayname(d) || ', not a school day'",
    )
    return col.ColumnCheck(check.column, check.values, {**check.reasons, "weekday": weekday})


def marks_rules(now: datetime, limits: DateLimits) -> KindRules:
    latest = _latest(now)
    codes = codes_by_set()
    checks = (
        col.urn(),
        col.upn(),
        _session_date(limits),
        col.timestamp("extracted_at", latest, required=True),
        col.choice("session", frozenset({"AM", "PM"}), "is not AM or PM", required=True),
        col.register_code(codes),
        col.timestamp("last_modified", latest),
        col.whole_number(
            "minutes_late",
            0,
            col.MAX_MINUTES_LATE,
            f"is out of range: minutes late lie between 0 and {col.MAX_MINUTES_LATE}",
        ),
    )
    session, taken = "c_session_date.d", "c_extracted_at.day"
    # The last day of the academic year after the one the extract was taken in.
    last = f"make_date(year({taken}) + case when month({taken}) >= 9 then 2 else 1 end, 8, 31)"
    new_set = f"{session} >= {date_literal(CODE_SET_2024_FROM)}"
    steps = (
        _of("urn"),
        _same_school(),
        _of("upn"),
        _of("session_date"),
        _of("extracted_at"),
        _of("extracted_at", "future"),
        _of("session_date", "weekday"),
        _of("session_date", "early"),
        when(
            f"{session} > {last}",
            f"'session_date ' || {as_text(session)} || ' is after ' || {as_text(last)} "
            "|| ', the end of the academic year after the extract''s (taken ' "
            f"|| {as_text(taken)} || ')'",
        ),
        when(
            f"{session} > {taken}",
            f"'session_date ' || {as_text(session)} || ' is after the extract was taken (' "
            f"|| {as_text(taken)} || ')'",
        ),
        _of("session"),
        _of("code"),
        when(
            f"c_code.v <> '' and not (case when {new_set} then c_code.in_2024 "
            "else c_code.in_pre2024 end)",
            f"'code ' || {echo('c_code.v')} || ' is not a register code of the ' "
            f"|| case when {new_set} then '2024' else 'pre-2024' end || ' set for ' "
            f"|| {as_text(session)}",
        ),
        _of("last_modified"),
        _of("last_modified", "future"),
        _of("minutes_late"),
    )
    typed = {
        "urn": "c_urn.v",
        "upn": "c_upn.up",
        "session_date": session,
        "session": "c_session.up",
        "code": "nullif(c_code.up, '')",
        "minutes_late": "c_minutes_late.n",
        # A mark's transaction time: when the MIS last wrote it, else when it was extracted.
        "transaction_time": "coalesce(c_last_modified.ts, c_extracted_at.ts)",
        "extracted_at": "c_extracted_at.ts",
    }
    return KindRules(checks, steps, typed)


def rules_for(kind_name: str, now: datetime, limits: DateLimits) -> KindRules:
    if kind_name == "schools":
        return schools_rules()
    if kind_name == "pupils":
        return pupils_rules(now, limits)
    return marks_rules(now, limits)
