"""Action-list cases drawn on top of the main register (issue 22, points 2 and 7).

Applied by `build_la` after the main draw and the closure, with a random generator of their
own, so that adding them moves no other mark:

- ten school days (20 sessions) of unauthorised absence in a row, across a weekend, at a
  secondary school: the school must report it to the LA;
- the same across the planned closure day at the closure school (the closure is skipped:
  not a possible session for anyone);
- nine school days (18 sessions) in a row: one short of the duty, not flagged;
- part-time timetables: `C2` every afternoon of the last 16 school days (still running),
  and one that ended well before the last school weeks;
- education away from school: some `K` (LA-arranged provision) and `B` (other approved
  activity) mornings.

Every case is written as the register's final mark (no later amendment), so an `N` stays
unresolved; marks of a closed session (`#`) are left alone.
"""

import random
from collections.abc import Iterable

from synthetic.model import Enrolment, Mark, SyntheticLA

UNAUTHORISED_CODES = ("O", "G", "O", "U", "O", "N")


def add_action_list_cases(la: SyntheticLA) -> None:
    """Write the cases into `la.marks` (those the LA's size and calendar allow)."""
    rng = random.Random(f"{la.config.seed}-action-list")
    n = len(la.days)
    taken: set[str] = set()
    secondary = _whole_year_pupils(la, ("secondary",), taken)
    if n >= 14 and len(secondary) >= 2:
        ten_days, nine_days = rng.sample(secondary, 2)
        _unauthorised_run(la, ten_days, range(n - 14, n - 3), taken)
        _unauthorised_run(la, nine_days, range(n - 13, n - 4), taken)
    closure = la.config.closure_day
    closed_school = next((s.urn for s in la.schools if s.phase == "primary"), None)
    if closed_school and 5 <= closure and closure + 6 <= n:
        pupils = [e for e in _whole_year_pupils(la, ("primary",), taken) if e.urn == closed_school]
        if pupils:
            _unauthorised_run(la, rng.choice(pupils), range(closure - 5, closure + 6), taken)
    anyone = _whole_year_pupils(la, ("primary", "secondary", "special", "ap"), taken)
    if n >= 20 and len(anyone) >= 7:
        running_a, running_b, ended, *offsite = rng.sample(anyone, 7)
        for pupil in (running_a, running_b):
            _afternoons(la, pupil, range(n - 16, n), "C2", taken)
        _afternoons(la, ended, range(n - 20, n - 12), "C2", taken)
        for pupil, code in zip(offsite, ("K", "K", "B", "K"), strict=True):
            _mornings(la, pupil, range(n - 10, n, 2), code, taken)


def _whole_year_pupils(
    la: SyntheticLA, phases: tuple[str, ...], taken: set[str]
) -> list[Enrolment]:
    """Pupils on roll on every school day, older than nursery, not yet used by a case."""
    phase = {s.urn: s.phase for s in la.schools}
    return [
        e
        for e in la.enrolments
        if phase[e.urn] in phases
        and e.ncy not in ("N1", "N2")
        and e.upn not in taken
        and all(la.on_roll(e, day) for day in la.days)
    ]


def _set(la: SyntheticLA, pupil: Enrolment, day_index: int, session: str, code: str) -> None:
    key = (pupil.urn, pupil.upn, la.days[day_index], session)
    mark = la.marks.get(key)
    if mark is None or mark.code == "#":
        return
    la.marks[key] = Mark(code, mark.recorded_at)


def _unauthorised_run(
    la: SyntheticLA, pupil: Enrolment, days: Iterable[int], taken: set[str]
) -> None:
    taken.add(pupil.upn)
    days = list(days)
    for i, day_index in enumerate(days):
        for session in ("AM", "PM"):
            _set(la, pupil, day_index, session, UNAUTHORISED_CODES[i % len(UNAUTHORISED_CODES)])
    # Present either side, so that a random absence does not lengthen the run.
    for day_index in (days[0] - 1, days[-1] + 1):
        if 0 <= day_index < len(la.days):
            _set(la, pupil, day_index, "AM", "/")
            _set(la, pupil, day_index, "PM", "\\")


def _afternoons(
    la: SyntheticLA, pupil: Enrolment, days: Iterable[int], code: str, taken: set[str]
) -> None:
    taken.add(pupil.upn)
    for day_index in days:
        _set(la, pupil, day_index, "AM", "/")
        _set(la, pupil, day_index, "PM", code)


def _mornings(
    la: SyntheticLA, pupil: Enrolment, days: Iterable[int], code: str, taken: set[str]
) -> None:
    taken.add(pupil.upn)
    for day_index in days:
        _set(la, pupil, day_index, "AM", code)
