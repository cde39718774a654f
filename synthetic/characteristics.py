"""Characteristics that change during the period, and schools whose extracts leave an optional
column out, so that "latest stated" is tested (MARTS.md version 2, pupil_attendance).

Applied by build_la after the main draw, with a random stream of its own, so the marks and
every other figure stay as they were:

- a few enrolments on roll throughout gain or lose a flag on a school day (FSM becomes
  eligible, a child-in-need or child-protection-plan status starts or ends, a looked-after
  status starts); the extracts carry the flags as they stand on their day;
- the second school's extracts leave `looked_after` out from half-way through (a changed MIS
  export): its pupils keep the value last stated, and one of them was stated looked after;
- the third school's extracts never carry `child_protection_plan`: its pupils read false,
  and one of them has a plan the hub is never told of.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthetic.model import Enrolment, SyntheticLA

# The pupils file's characteristic flags, in the contract's order.
FLAGS = ("fsm_eligible", "looked_after", "child_in_need", "child_protection_plan")
# (flag, value it changes to): one enrolment each.
CHANGES = (
    ("fsm_eligible", True),
    ("fsm_eligible", True),
    ("fsm_eligible", True),
    ("child_in_need", True),
    ("child_in_need", True),
    ("child_in_need", False),
    ("child_protection_plan", True),
    ("child_protection_plan", False),
    ("looked_after", True),
    ("looked_after", True),
)


def change_characteristics(la: SyntheticLA) -> None:
    """Add the flag changes and the left-out columns to `la` (in place)."""
    days = len(la.days)
    if days < 6 or len(la.schools) < 3:
        return
    rng = random.Random(f"{la.config.seed}-characteristics")
    steady = [e for e in la.enrolments if e.leaving_date is None and e.admission_date <= la.days[0]]
    for flag, value in CHANGES:
        candidates = [e for e in steady if getattr(e, flag) != value and not e.flag_changes]
        if not candidates:
            candidates = [e for e in steady if not e.flag_changes]
            if not candidates:
                return
            chosen = rng.choice(candidates)
            setattr(chosen, flag, not value)
        else:
            chosen = rng.choice(candidates)
        chosen.flag_changes.append((rng.randrange(2, days), flag, value))
    half_way = days // 2
    stated = _steady_at(steady, la.schools[1].urn, rng)
    if stated is not None:
        stated.looked_after = True
    la.columns_left_out[la.schools[1].urn] = [(half_way, "looked_after")]
    unstated = _steady_at(steady, la.schools[2].urn, rng)
    if unstated is not None:
        unstated.child_protection_plan = True
    la.columns_left_out[la.schools[2].urn] = [(0, "child_protection_plan")]


def _steady_at(steady: list[Enrolment], urn: str, rng: random.Random) -> Enrolment | None:
    candidates = [e for e in steady if e.urn == urn and not e.flag_changes]
    return rng.choice(candidates) if candidates else None
