"""Children who may be missing education: the enrolments that end with nowhere known to go.

Applied by `build_la` after the main draw, with its own random generator, so the other
cases' numbers do not move. Besides the pupils `_move_some_pupils` already sends away
(two with a new school, two without), it adds, when there are at least MIN_DAYS school days:

- a pupil the MIS **drops** from its extracts 14 school days before the end (or on the
  second day): no leaving date is ever sent, and no pupils row after that day (the
  register simply stops);
- a pupil who leaves (leaving date sent) three school days before the end: still within
  the window of the last day;
- a pupil who leaves on the second day and **joins another school late**, on the last but
  one day: listed until the join is known, then not;
- a pupil who **joins another school two days before leaving** the first (dual
  registration while the move happens): never listed.

The record keeps the true last day on roll as each enrolment's `leaving_date` (for a dropped
pupil too, whose extracts never carry it: `SyntheticLA.unrecorded_leavers`).
"""

import random

from synthetic.model import (
    Enrolment,
    SyntheticLA,
    _close_school_for_a_day,
    _register,
)

# Fewer school days than this leave no room for a window after a leaving date. It also keeps
# the small LAs of the serving and pipeline tests (10 days or fewer) as they were.
MIN_DAYS = 12
# Year groups of compulsory school age, so that every case is one the list is for.
COMPULSORY_YEARS = {str(year) for year in range(1, 12)}


def add_children_missing_education(la: SyntheticLA) -> None:
    """Add the four cases above to `la` (nothing when it has fewer than MIN_DAYS days)."""
    days = la.days
    n = len(days)
    if n < MIN_DAYS:
        return
    rng = random.Random(f"{la.config.seed}-cme")
    upn_count: dict[str, int] = {}
    for e in la.enrolments:
        upn_count[e.upn] = upn_count.get(e.upn, 0) + 1
    pool = [
        e
        for e in la.enrolments
        if e.leaving_date is None
        and e.admission_date <= days[0]
        and len(e.sen_history) == 1
        and e.ncy in COMPULSORY_YEARS
        and upn_count[e.upn] == 1
    ]
    if len(pool) < 4:
        return
    # The register of a dropped pupil looks incomplete to fct_sessions' completeness check
    # (2% of a school's sessions allowed): the largest school's register absorbs it.
    sizes: dict[str, int] = {}
    for e in la.enrolments:
        sizes[e.urn] = sizes.get(e.urn, 0) + 1
    largest = max(sizes, key=lambda urn: (sizes[urn], urn))
    dropped = rng.choice([e for e in pool if e.urn == largest])
    leaver, late, early = rng.sample([e for e in pool if e is not dropped], k=3)

    _leave(la, dropped, max(1, n - 14))
    la.unrecorded_leavers.add((dropped.urn, dropped.upn))
    _leave(la, leaver, n - 3)
    _leave(la, late, 1)
    _join(la, late, n - 2, rng)
    _leave(la, early, n // 2)
    _join(la, early, n // 2 - 2, rng)
    # A joiner's new register may fall on the planned closure day.
    _close_school_for_a_day(la)


def _leave(la: SyntheticLA, enrolment: Enrolment, day_index: int) -> None:
    """The enrolment's last day on roll is `day_index`: its later marks go."""
    last = la.days[day_index]
    enrolment.leaving_date = last
    for key in [k for k in la.marks if k[:2] == (enrolment.urn, enrolment.upn) and k[2] > last]:
        del la.marks[key]


def _join(la: SyntheticLA, enrolment: Enrolment, day_index: int, rng: random.Random) -> None:
    """The pupil joins another school of the LA on `day_index`, with a register of its own."""
    phase = next(s.phase for s in la.schools if s.urn == enrolment.urn)
    others = [s for s in la.schools if s.urn != enrolment.urn]
    alike = [s for s in others if s.phase == phase]
    target = rng.choice(alike or others)
    joined = Enrolment(
        **{
            **enrolment.__dict__,
            "urn": target.urn,
            "admission_date": la.days[day_index],
            "leaving_date": None,
            "sen_history": list(enrolment.sen_history),
        }
    )
    la.enrolments.append(joined)
    _register(la, joined, rng)
