"""The synthetic local authority and its ground truth.

Everything is drawn from one seeded random generator, so the same config always gives the
same authority. Marks change over time the way real registers do: an `N` is replaced by the
real reason a few days later, a mark not yet taken is filled in the next day.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from ingestion.rules.upn import make_upn
from synthetic.characteristics import FLAGS, change_characteristics

# Extracts are stamped in UK local time; September to October is British Summer Time.
UK_SUMMER = timezone(timedelta(hours=1))

# Invented, distinctive names: tests search every file the pipeline writes for them.
FORENAMES = ["Zorvila", "Quennith", "Brastow", "Ylvanne", "Thorquil", "Maribeth", "Osgerin"]
SURNAMES = ["Wexcombe", "Pludderby", "Vantrisk", "Hollowmere", "Grisbane", "Oxenthwaite"]

PRIMARY_NEEDS = [
    "SPLD",
    "MLD",
    "SLD",
    "PMLD",
    "SEMH",
    "SLCN",
    "HI",
    "VI",
    "MSI",
    "PD",
    "ASD",
    "OTH",
]

PHASE_PLAN = [
    # phase, pupils weight, year groups
    ("primary", 1.0, ["N2", "R", "1", "2", "3", "4", "5", "6"]),
    ("secondary", 3.0, ["7", "8", "9", "10", "11"]),
    ("special", 0.4, ["3", "5", "7", "9", "11"]),
    ("ap", 0.2, ["9", "10", "11"]),
]
PHASE_ORDER = [
    "primary",
    "primary",
    "secondary",
    "primary",
    "special",
    "primary",
    "secondary",
    "primary",
    "ap",
    "primary",
    "secondary",
    "primary",
]

FORMATS = ["csv", "jsonl", "csv.gz", "jsonl.gz"]


@dataclass(frozen=True)
class GeneratorConfig:
    schools: int = 12
    pupils: int = 3000
    start: date = date(2025, 9, 1)
    school_days: int = 20
    window_days: int = 10
    la_code: str = "881"
    seed: int = 2025
    # Add rows that break the extract contract's rules, so that quarantine has something to show.
    bad_rows: bool = True
    # A planned closure (`#`) at the first primary school on this school day, if in range.
    closure_day: int = 7
    # Holidays: (first, last) days on which no school is open (no marks, no extracts).
    holidays: tuple[tuple[date, date], ...] = ()
    # School days of the previous academic year held before `start` (synthetic/history.py):
    # its first ones, from 52 weeks before `start`. 0: the store holds this year only.
    previous_year_school_days: int = 0


@dataclass(frozen=True)
class School:
    urn: str
    la_code: str
    establishment: str
    name: str
    phase: str
    file_format: str
    sends_last_modified: bool
    bool_style: tuple[str, str]


@dataclass
class SenStatus:
    provision: str
    primary_need: str


@dataclass
class Enrolment:
    urn: str
    upn: str
    forename: str
    surname: str
    date_of_birth: date
    sex: str
    ncy: str
    admission_date: date
    leaving_date: date | None
    fsm_eligible: bool
    looked_after: bool
    child_in_need: bool
    child_protection_plan: bool
    # (first school day index it applies from, status); the first entry applies from the start
    sen_history: list[tuple[int, SenStatus]] = field(default_factory=list)
    # (first school day index it applies from, flag, value): FSM, looked after, child in need
    # or child protection plan changing during the period (synthetic/characteristics.py).
    flag_changes: list[tuple[int, str, bool]] = field(default_factory=list)

    def flags_on(self, day_index: int) -> dict[str, bool]:
        """The four flags as the MIS holds them on `day_index`."""
        flags = {flag: getattr(self, flag) for flag in FLAGS}
        for from_day, flag, value in sorted(self.flag_changes):
            if from_day <= day_index:
                flags[flag] = value
        return flags

    def sen_on(self, day_index: int) -> SenStatus:
        status = self.sen_history[0][1]
        for from_day, later in self.sen_history:
            if from_day <= day_index:
                status = later
        return status

    def sen_change_day(self, day_index: int) -> int:
        """The school day on which the status in force on `day_index` began."""
        begun = 0
        for from_day, _ in self.sen_history:
            if from_day <= day_index:
                begun = from_day
        return begun


@dataclass
class Mark:
    """One session's register entry and the versions it goes through."""

    code: str
    recorded_at: datetime
    minutes_late: int | None = None
    # (first extract day index that shows it, code, when the MIS wrote it)
    amendments: list[tuple[int, str, datetime]] = field(default_factory=list)

    def as_seen_on(self, day_index: int) -> tuple[str, datetime]:
        code, written = self.code, self.recorded_at
        for from_day, amended, at in self.amendments:
            if from_day <= day_index:
                code, written = amended, at
        return code, written


MarkKey = tuple[str, str, date, str]  # urn, upn, session_date, session


@dataclass
class SyntheticLA:
    config: GeneratorConfig
    schools: list[School]
    enrolments: list[Enrolment]
    days: list[date]
    marks: dict[MarkKey, Mark]
    # urn -> (first school day index, optional pupils column the school's extracts leave out
    # from that day on) (synthetic/characteristics.py).
    columns_left_out: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def left_out(self, urn: str, day_index: int) -> set[str]:
        """The optional pupils columns the school's extract of `day_index` does not have."""
        return {c for d, c in self.columns_left_out.get(urn, []) if d <= day_index}

    # Enrolments (urn, upn) the MIS dropped without a leaving date (synthetic/cme.py): their
    # leaving_date is the last day on roll, but no extract carries it, and no pupils row after.
    unrecorded_leavers: set[tuple[str, str]] = field(default_factory=set)

    def extract_time(self, day_index: int) -> datetime:
        return datetime.combine(self.days[day_index], time(16, 5), UK_SUMMER)

    def window(self, day_index: int) -> range:
        first = max(0, day_index - self.config.window_days + 1)
        return range(first, day_index + 1)

    def on_roll(self, enrolment: Enrolment, day: date) -> bool:
        left = enrolment.leaving_date
        return enrolment.admission_date <= day and (left is None or day <= left)

    def marks_known_after(self, last_day_index: int) -> dict[MarkKey, str]:
        """Ground truth: each session's code as the latest delivered extract showing it had it."""
        truth: dict[MarkKey, str] = {}
        day_index_of = {day: i for i, day in enumerate(self.days)}
        for key, mark in self.marks.items():
            session_day = day_index_of[key[2]]
            if session_day > last_day_index:
                continue
            last_seen = min(last_day_index, session_day + self.config.window_days - 1)
            truth[key] = mark.as_seen_on(last_seen)[0]
        return truth

    def forbidden_strings(self) -> set[str]:
        """Strings that must never be stored: every forename and surname the generator used."""
        return {e.forename for e in self.enrolments} | {e.surname for e in self.enrolments}


def school_days(
    start: date, count: int, holidays: tuple[tuple[date, date], ...] = ()
) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5 and not any(first <= day <= last for first, last in holidays):
            days.append(day)
        day += timedelta(days=1)
    return days


def build_la(config: GeneratorConfig) -> SyntheticLA:
    rng = random.Random(config.seed)
    days = school_days(config.start, config.school_days, config.holidays)
    schools = _schools(config)
    enrolments = _enrolments(config, schools, days, rng)
    la = SyntheticLA(config, schools, enrolments, days, {})
    for enrolment in enrolments:
        _register(la, enrolment, rng)
    _close_school_for_a_day(la)
    # Imported here: the case modules build on this module's classes. The previous year's
    # history comes last: it puts its school days before this year's.
    from synthetic.action_list_cases import add_action_list_cases
    from synthetic.cme import add_children_missing_education
    from synthetic.history import add_previous_year

    change_characteristics(la)
    add_action_list_cases(la)
    add_children_missing_education(la)
    add_previous_year(la)
    return la


def _schools(config: GeneratorConfig) -> list[School]:
    schools = []
    for i in range(config.schools):
        phase = PHASE_ORDER[i % len(PHASE_ORDER)]
        styles = [("true", "false"), ("Y", "N"), ("1", "0")]
        schools.append(
            School(
                urn=f"{100001 + i * 7:06d}",
                la_code=config.la_code,
                establishment=f"{(2001 if phase == 'primary' else 4001) + i:04d}",
                name=f"Synthetic {phase.title()} School {i + 1}",
                phase=phase,
                file_format=FORMATS[i % len(FORMATS)],
                sends_last_modified=i % 3 != 2,
                bool_style=styles[i % len(styles)],
            )
        )
    return schools


def _enrolments(
    config: GeneratorConfig, schools: list[School], days: list[date], rng: random.Random
) -> list[Enrolment]:
    weights = {phase: weight for phase, weight, _ in PHASE_PLAN}
    year_groups = {phase: groups for phase, _, groups in PHASE_PLAN}
    total_weight = sum(weights[s.phase] for s in schools)
    enrolments: list[Enrolment] = []
    for school in schools:
        size = max(4, round(config.pupils * weights[school.phase] / total_weight))
        for serial in range(size):
            enrolments.append(_pupil(config, school, serial, year_groups[school.phase], days, rng))
    _move_some_pupils(enrolments, schools, days, rng)
    return enrolments


def _pupil(
    config: GeneratorConfig,
    school: School,
    serial: int,
    year_groups: list[str],
    days: list[date],
    rng: random.Random,
) -> Enrolment:
    ncy = rng.choice(year_groups)
    # Age on the 31 August before the year: reception 4, year 1 5, ..., year 11 15.
    age = {"N2": 3, "R": 4}.get(ncy) or int(ncy) + 4
    year_start = config.start.year - age - 1
    dob = date(year_start, 9, 1) + timedelta(days=rng.randrange(365))
    if school.phase == "special":
        sen = SenStatus("E", rng.choice(["SLD", "PMLD", "ASD", "SEMH", "MSI"]))
    else:
        roll = rng.random()
        if roll < 0.04:
            sen = SenStatus("E", rng.choice(PRIMARY_NEEDS))
        elif roll < 0.17:
            sen = SenStatus("K", rng.choice(PRIMARY_NEEDS + ["NSA"]))
        else:
            sen = SenStatus("N", "")
    history = [(0, sen)]
    if sen.provision == "N" and rng.random() < 0.02 and len(days) > 4:
        history.append((rng.randrange(2, len(days)), SenStatus("K", rng.choice(PRIMARY_NEEDS))))
    admitted = date(config.start.year - rng.randrange(0, 3), 9, 1)
    if rng.random() < 0.01 and len(days) > 4:
        admitted = days[rng.randrange(1, len(days) // 2)]
    return Enrolment(
        urn=school.urn,
        upn=make_upn(config.la_code, school.establishment, admitted.year, serial),
        forename=rng.choice(FORENAMES),
        surname=rng.choice(SURNAMES),
        date_of_birth=dob,
        sex=rng.choice("MF"),
        ncy=ncy,
        admission_date=admitted,
        leaving_date=None,
        fsm_eligible=rng.random() < 0.25,
        looked_after=rng.random() < 0.01,
        child_in_need=rng.random() < 0.03,
        child_protection_plan=rng.random() < 0.01,
        sen_history=history,
    )


def _move_some_pupils(
    enrolments: list[Enrolment], schools: list[School], days: list[date], rng: random.Random
) -> None:
    """A few pupils leave mid-period; two of them join another school the next week."""
    if len(days) < 6:
        return
    movers = rng.sample(enrolments, k=min(4, len(enrolments)))
    for n, enrolment in enumerate(movers):
        leave_index = rng.randrange(2, len(days) - 3)
        enrolment.leaving_date = days[leave_index]
        if n >= 2:
            continue
        others = [s for s in schools if s.urn != enrolment.urn]
        target = rng.choice(others)
        enrolments.append(
            Enrolment(
                **{
                    **enrolment.__dict__,
                    "urn": target.urn,
                    "admission_date": days[leave_index + 2],
                    "leaving_date": None,
                    "sen_history": list(enrolment.sen_history),
                }
            )
        )


def _absence_propensity(enrolment: Enrolment, rng: random.Random) -> float:
    base = {"N": 0.04, "K": 0.08, "E": 0.11}[enrolment.sen_history[0][1].provision]
    if rng.random() < 0.12:
        return min(0.6, base * rng.uniform(3, 8))
    return base * rng.uniform(0.2, 1.5)


def _register(la: SyntheticLA, enrolment: Enrolment, rng: random.Random) -> None:
    """Draw every session's mark, with some marks amended in later extracts."""
    school = next(s for s in la.schools if s.urn == enrolment.urn)
    propensity = _absence_propensity(enrolment, rng)
    ill_streak = 0
    for index, day in enumerate(la.days):
        if not la.on_roll(enrolment, day):
            continue
        day_reason: str | None = None
        if ill_streak > 0:
            day_reason, ill_streak = "I", ill_streak - 1
        elif rng.random() < propensity:
            day_reason = rng.choices(
                ["I", "M", "O", "G", "N", "U", "L", "C", "R", "E", "V", "B"],
                weights=[35, 6, 10, 6, 14, 5, 8, 3, 2, 1, 3, 2],
            )[0]
            if day_reason == "I" and rng.random() < 0.4:
                ill_streak = rng.randrange(1, 4)
        for session, present, at in (("AM", "/", time(9, 10)), ("PM", "\\", time(13, 40))):
            recorded = datetime.combine(day, at, UK_SUMMER)
            key = (enrolment.urn, enrolment.upn, day, session)
            la.marks[key] = _mark(
                enrolment, school, day_reason, session, present, recorded, index, len(la.days), rng
            )


def _mark(
    enrolment: Enrolment,
    school: School,
    day_reason: str | None,
    session: str,
    present: str,
    recorded: datetime,
    index: int,
    day_count: int,
    rng: random.Random,
) -> Mark:
    if enrolment.ncy == "N2" and session == "PM":
        # Nursery pupils below compulsory school age attend mornings only.
        return Mark("X", recorded)
    if day_reason is None:
        if rng.random() < 0.004 and index + 1 < day_count:
            # Not taken when the extract ran; filled in next day.
            when = recorded + timedelta(days=1, hours=1)
            return Mark("", recorded, amendments=[(index + 1, present, when)])
        return Mark(present, recorded)
    if day_reason == "M" and session == "PM":
        return Mark(present, recorded)
    if day_reason in ("L", "U"):
        if session == "PM":
            return Mark(present, recorded)
        return Mark(day_reason, recorded, minutes_late=rng.randrange(5, 45))
    if day_reason == "N":
        mark = Mark("N", recorded)
        delay = rng.randrange(1, 4)
        if rng.random() < 0.85 and index + delay < day_count:
            resolved = rng.choices(["I", "O", "M", "G"], weights=[6, 2, 1, 1])[0]
            when = recorded + timedelta(days=delay, hours=2)
            mark.amendments.append((index + delay, resolved, when))
        return mark
    return Mark(day_reason, recorded)


def _close_school_for_a_day(la: SyntheticLA) -> None:
    """A planned closure (`#`) at the first primary school: not a possible session for anyone."""
    if la.config.closure_day >= len(la.days):
        return
    school = next((s for s in la.schools if s.phase == "primary"), None)
    if school is None:
        return
    day = la.days[la.config.closure_day]
    for key, mark in la.marks.items():
        if key[0] == school.urn and key[2] == day:
            la.marks[key] = Mark("#", mark.recorded_at)
