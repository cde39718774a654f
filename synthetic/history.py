"""Last year's history: the register of the previous academic year's first school days.

An authority that starts the pipeline keeps last year's registers beside this year's, so that
each week can be compared with the same school week of last year (weekly_attendance). The
history is drawn with its own seeded generator, after the main draw, so that every figure of
the current year stays what it was without it.
"""

import random
from dataclasses import replace
from datetime import timedelta

from synthetic.model import SyntheticLA, _register, school_days

# 52 weeks: the history starts on the same weekday of the same school week a year earlier.
ONE_YEAR = timedelta(weeks=52)


def add_previous_year(la: SyntheticLA) -> None:
    """Prepend `previous_year_school_days` school days of last year to `la`: marks for every
    enrolment on roll then, delivered as extracts like the others (school day indexes of
    this year move up by as many days)."""
    count = la.config.previous_year_school_days
    if count <= 0:
        return
    rng = random.Random(f"{la.config.seed}-previous-year")
    days = [d for d in school_days(la.config.start - ONE_YEAR, count) if d < la.days[0]]
    earlier = SyntheticLA(la.config, la.schools, la.enrolments, days, {})
    for enrolment in la.enrolments:
        _register(earlier, enrolment, rng)
    shift = len(days)
    for key, mark in la.marks.items():
        la.marks[key] = replace(
            mark, amendments=[(i + shift, c, at) for i, c, at in mark.amendments]
        )
    for enrolment in la.enrolments:
        enrolment.sen_history = [
            (from_day + shift if from_day else 0, status)
            for from_day, status in enrolment.sen_history
        ]
    la.days[:0] = days
    la.marks = {**earlier.marks, **la.marks}


__all__ = ["add_previous_year"]
