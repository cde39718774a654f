"""`children_missing_education`, computed straight from the generator's record in plain Python,
from the rules of docs/interface.md ("children_missing_education"); never from the project's
SQL.

The record keeps each enrolment's true last day on roll as its `leaving_date`; an enrolment in
`la.unrecorded_leavers` never had it sent (the MIS dropped the pupil), so the pipeline can only
know it has ended once its school's register has an open day after it.
"""

from datetime import date

from synthetic import SyntheticLA
from synthetic.model import Enrolment
from tests.support.truth import registers as truth

# docs/interface.md: listed once this many of the LA's school days have passed.
LISTED_AFTER_SCHOOL_DAYS = 10


def _age_on_31_august_before(day: date, born: date) -> int:
    year_start = day.year if day.month >= 9 else day.year - 1
    return year_start - born.year - (1 if born.month >= 9 else 0)


def expected_children_missing_education(la: SyntheticLA, last_day_index: int) -> dict:
    """Keyed by (urn, upn): the ended enrolments no other enrolment of the LA outlasts."""
    today = la.days[last_day_index]
    marks = la.marks_known_after(last_day_index)
    open_days = truth.calendar(marks).days
    la_days = sorted({day for days in open_days.values() for day in days})
    known = [e for e in la.enrolments if e.admission_date <= today]

    def ended_on(e: Enrolment) -> date | None:
        if e.leaving_date is None or e.leaving_date > today:
            return None
        if (e.urn, e.upn) in la.unrecorded_leavers:
            # Known only when the school's register went on after the pupil's last day.
            if not any(day > e.leaving_date for day in open_days.get(e.urn, [])):
                return None
        return e.leaving_date

    school_names = {s.urn: s.name for s in la.schools}
    las = {s.urn: s.la_code for s in la.schools}
    expected = {}
    for e in known:
        last_day = ended_on(e)
        if last_day is None:
            continue
        if not 5 <= _age_on_31_august_before(last_day, e.date_of_birth) <= 15:
            continue
        outlasted = False
        for other in known:
            if other.upn != e.upn or other.urn == e.urn or las[other.urn] != las[e.urn]:
                continue
            other_end = ended_on(other)
            if other_end is None or other_end > last_day:
                outlasted = True
        if outlasted:
            continue
        since = sum(1 for day in la_days if last_day < day <= today)
        expected[(e.urn, e.upn)] = {
            "la_code": las[e.urn],
            "school_name": school_names[e.urn],
            "ncy": e.ncy,
            "sen_provision": truth.latest_sen(la, e, last_day_index).provision,
            "ended_by": "dropped" if (e.urn, e.upn) in la.unrecorded_leavers else "leaving_date",
            "last_day_on_roll": last_day,
            "school_days_since": since,
            "status": "listed" if since >= LISTED_AFTER_SCHOOL_DAYS else "watch",
        }
    return expected
