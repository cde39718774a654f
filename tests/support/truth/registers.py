"""Published figures computed straight from the generator's record, in plain Python.

Deliberately independent of the project's SQL and of its code seeds: the categories are
written out here from docs/domain.md, and every rule of docs/interface.md is computed again
the simplest way (loops over the generator's marks), so that a test comparing the two checks
the models, not a copy of them.

Every function takes the authority and the last school day whose extracts were delivered
(`last_day_index`): the marts then reflect the extracts of days 0..last_day_index.
"""

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from synthetic import SyntheticLA
from synthetic.characteristics import FLAGS
from synthetic.model import Enrolment, MarkKey

PRESENT = {"/", "\\", "L"}
AEA = {"K", "V", "P", "W", "B"}
AUTHORISED = {"C1", "M", "J1", "S", "C2", "C", "T", "R", "I", "E"}
UNAUTHORISED = {"G", "N", "O", "U"}
NOT_POSSIBLE = {"D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"}
ADMINISTRATIVE = {"Z", "#"}
POSSIBLE = PRESENT | AEA | AUTHORISED | UNAUTHORISED
ABSENCE = AUTHORISED | UNAUTHORISED

# Aggregate marts withhold counts of 1 to 4 people (docs/models.md, "Suppression").
SMALL = range(1, 5)


def academic_year(day: date) -> str:
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def category(code: str) -> str:
    """A 2024-set code's category; a blank (not yet taken) mark is `not_taken`."""
    for name, codes in (
        ("present", PRESENT),
        ("aea", AEA),
        ("authorised", AUTHORISED),
        ("unauthorised", UNAUTHORISED),
        ("not_possible", NOT_POSSIBLE),
        ("administrative", ADMINISTRATIVE),
    ):
        if code in codes:
            return name
    if code == "":
        return "not_taken"
    raise ValueError(f"unknown code {code!r}")


def session_key(day: date, session: str) -> str:
    return f"{day.isoformat()} {session}"


def _rate(numerator: int, denominator: int) -> float:
    return float(Fraction(numerator, denominator))


# --- SEN status as the extracts told it ------------------------------------------------------


def _seen_in_extract(la: SyntheticLA, e: Enrolment, day_index: int) -> bool:
    """Whether the extract of `day_index` carried a pupils row for the enrolment."""
    first = la.days[la.window(day_index)[0]]
    last = la.days[day_index]
    return e.admission_date <= last and (e.leaving_date is None or e.leaving_date >= first)


def latest_sen(la: SyntheticLA, e: Enrolment, last_day_index: int):
    """The status of the last delivered extract that carried the enrolment."""
    for day_index in range(last_day_index, -1, -1):
        if _seen_in_extract(la, e, day_index):
            return e.sen_on(day_index)
    return None


def _enrolments(la: SyntheticLA) -> dict[tuple[str, str], Enrolment]:
    return {(e.urn, e.upn): e for e in la.enrolments}


# --- sessions and the school calendar --------------------------------------------------------


def expected_sessions(la: SyntheticLA, last_day_index: int) -> dict[MarkKey, dict]:
    """Every session with a mark: its current code, category and the SEN status on its date."""
    enrolments = _enrolments(la)
    day_index_of = {day: i for i, day in enumerate(la.days)}
    expected = {}
    for key, code in la.marks_known_after(last_day_index).items():
        status = enrolments[key[:2]].sen_on(day_index_of[key[2]])
        expected[key] = {
            "code": code or None,
            "category": category(code),
            "sen_provision": status.provision,
            "sen_primary_need": status.primary_need or None,
        }
    return expected


@dataclass
class Calendar:
    """Each school's open sessions and school days, as MARTS.md defines them."""

    # urn -> sorted school days (a day with at least one open session)
    days: dict[str, list[date]]
    # urn -> number of open sessions on each school day
    open_sessions: dict[str, dict[date, int]]
    # urn -> key of the latest open session
    latest_open: dict[str, str]

    def day_number(self, urn: str, day: date) -> int:
        return self.days[urn].index(day) + 1

    def week_number(self, urn: str, day: date) -> int:
        """Number of the school week (within the academic year) that the day falls in."""
        year = academic_year(day)
        mondays = sorted(
            {d - timedelta(days=d.weekday()) for d in self.days[urn] if academic_year(d) == year}
        )
        return mondays.index(day - timedelta(days=day.weekday())) + 1


def calendar(marks: dict[MarkKey, str]) -> Calendar:
    """A session is open if any pupil has a taken mark there other than `#`."""
    open_keys: dict[str, set[tuple[date, str]]] = defaultdict(set)
    for (urn, _upn, day, session), code in marks.items():
        if code not in ("", "#"):
            open_keys[urn].add((day, session))
    days, counts, latest = {}, {}, {}
    for urn, keys in open_keys.items():
        counts[urn] = Counter(day for day, _ in keys)
        days[urn] = sorted(counts[urn])
        latest[urn] = max(session_key(day, session) for day, session in keys)
    return Calendar(days, counts, latest)


def _by_enrolment(marks: dict[MarkKey, str]) -> dict[tuple[str, str], list[tuple]]:
    """(urn, upn) -> [(date, session, code)] in session order."""
    sessions: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for (urn, upn, day, session), code in marks.items():
        sessions[(urn, upn)].append((day, session, code))
    for rows in sessions.values():
        rows.sort(key=lambda row: (row[0], row[1]))
    return sessions


# --- pupil_attendance -------------------------------------------------------------------------


def expected_pupil_attendance(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    counts: dict[tuple, dict[str, int]] = {}
    for (urn, upn, day, _session), code in la.marks_known_after(last_day_index).items():
        key = (urn, upn, academic_year(day))
        row = counts.setdefault(key, {"present": 0, "aea": 0, "auth": 0, "unauth": 0})
        if code in PRESENT:
            row["present"] += 1
        elif code in AEA:
            row["aea"] += 1
        elif code in AUTHORISED:
            row["auth"] += 1
        elif code in UNAUTHORISED:
            row["unauth"] += 1
    enrolments = _enrolments(la)
    expected = {}
    for key, row in counts.items():
        possible = row["present"] + row["aea"] + row["auth"] + row["unauth"]
        if possible == 0:
            continue
        absence = Fraction(row["auth"] + row["unauth"], possible)
        status = latest_sen(la, enrolments[key[:2]], last_day_index)
        expected[key] = {
            "possible_sessions": possible,
            "present_sessions": row["present"],
            "aea_sessions": row["aea"],
            "authorised_absence_sessions": row["auth"],
            "unauthorised_absence_sessions": row["unauth"],
            "attendance_rate": float(1 - absence),
            "overall_absence_rate": float(absence),
            "is_persistent_absence": absence >= Fraction(1, 10),
            "is_severe_absence": absence >= Fraction(1, 2),
            "sen_provision": status.provision,
            "sen_primary_need": status.primary_need or None,
            **characteristics(la, enrolments[key[:2]], key[2], last_day_index),
        }
    return expected


def characteristics(la: SyntheticLA, e: Enrolment, year: str, last_day_index: int) -> dict:
    """The enrolment's year group, compulsory school age and flags (MARTS.md version 2): each
    flag as the last delivered extract that carried the enrolment and the column stated it,
    false when none did."""
    before_year = date(int(year[:4]), 8, 31)
    age = before_year.year - e.date_of_birth.year - (e.date_of_birth.month >= 9)
    flags = dict.fromkeys(FLAGS, False)
    for flag in FLAGS:
        for day_index in range(last_day_index, -1, -1):
            if _seen_in_extract(la, e, day_index) and flag not in la.left_out(e.urn, day_index):
                flags[flag] = e.flags_on(day_index)[flag]
                break
    return {"ncy": e.ncy, "compulsory_school_age": 5 <= age <= 15, **flags}


# --- absence_episodes -------------------------------------------------------------------------


def expected_absence_episodes(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (urn, upn, start_date, start_session)."""
    marks = la.marks_known_after(last_day_index)
    cal = calendar(marks)
    enrolments = _enrolments(la)
    day_index_of = {day: i for i, day in enumerate(la.days)}
    expected = {}
    for (urn, upn), rows in _by_enrolment(marks).items():
        last_mark = session_key(rows[-1][0], rows[-1][1])
        # Only possible sessions take part: present and AEA break a run, absences extend it;
        # everything else (X, Y*, Q, D, Z, #, blank) is skipped.
        possible = [row for row in rows if row[2] in POSSIBLE]
        runs: list[list[tuple]] = []
        previous_was_absence = False
        for row in possible:
            if row[2] in ABSENCE:
                if not previous_was_absence:
                    runs.append([])
                runs[-1].append(row)
            previous_was_absence = row[2] in ABSENCE
        for run in runs:
            first, last = run[0], run[-1]
            codes = [code for _, _, code in run]
            tally = Counter(codes)
            main = max(tally, key=lambda c: (tally[c], -codes.index(c)))
            status = enrolments[(urn, upn)].sen_on(day_index_of[first[0]])
            start = session_key(first[0], first[1])
            expected[(urn, upn, first[0], first[1])] = {
                "episode_id": hashlib.md5(f"{urn}|{upn}|{start}".encode()).hexdigest(),
                "academic_year": academic_year(first[0]),
                "end_date": last[0],
                "end_session": last[1],
                "sessions": len(run),
                "school_days": len({day for day, _, _ in run}),
                "main_reason_code": main,
                "main_reason_sessions": tally[main],
                "authorised_sessions": sum(code in AUTHORISED for code in codes),
                "unauthorised_sessions": sum(code in UNAUTHORISED for code in codes),
                "sen_provision_at_start": status.provision,
                "sen_primary_need_at_start": status.primary_need or None,
                "is_open": last == possible[-1] and last_mark >= cal.latest_open[urn],
            }
    return expected


# --- attendance_by_sen and attendance_by_sen_need ---------------------------------------------


def _sen_groups(la: SyntheticLA, last_day_index: int, by_need: bool) -> dict[tuple, dict]:
    la_code = {school.urn: school.la_code for school in la.schools}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for (urn, _upn, year), row in expected_pupil_attendance(la, last_day_index).items():
        if by_need and row["sen_provision"] not in ("K", "E"):
            continue
        group = (row["sen_provision"],) + ((row["sen_primary_need"],) if by_need else ())
        for level, area in (("school", urn), ("la", la_code[urn])):
            groups[(level, area, year, *group)].append({"urn": urn, **row})
    expected = {}
    for key, rows in groups.items():
        enrolments = len(rows)
        possible = sum(r["possible_sessions"] for r in rows)
        absence = sum(
            r["authorised_absence_sessions"] + r["unauthorised_absence_sessions"] for r in rows
        )
        persistent = sum(r["is_persistent_absence"] for r in rows)
        severe = sum(r["is_severe_absence"] for r in rows)
        group_withheld = enrolments in SMALL
        persistent_withheld = group_withheld or persistent in SMALL
        severe_withheld = group_withheld or severe in SMALL
        expected[key] = {
            "schools": len({r["urn"] for r in rows}),
            "enrolments": None if group_withheld else enrolments,
            "possible_sessions": None if group_withheld else possible,
            "absence_sessions": None if group_withheld else absence,
            "overall_absence_rate": None if group_withheld else _rate(absence, possible),
            "persistent_absence_enrolments": None if persistent_withheld else persistent,
            "persistent_absence_rate": None
            if persistent_withheld
            else _rate(persistent, enrolments),
            "severe_absence_enrolments": None if severe_withheld else severe,
            "severe_absence_rate": None if severe_withheld else _rate(severe, enrolments),
            "suppressed": group_withheld or persistent_withheld or severe_withheld,
        }
    return expected


def expected_attendance_by_sen(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (level, area, academic_year, sen_provision)."""
    return _sen_groups(la, last_day_index, by_need=False)


def expected_attendance_by_sen_need(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (level, area, academic_year, sen_provision, sen_primary_need)."""
    return _sen_groups(la, last_day_index, by_need=True)


# --- school_daily_attendance ------------------------------------------------------------------


def expected_school_daily_attendance(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (urn, session_date), for each school day of each school."""
    marks = la.marks_known_after(last_day_index)
    cal = calendar(marks)
    tallies: dict[tuple, Counter] = defaultdict(Counter)
    expected_pupils: dict[tuple, set[str]] = defaultdict(set)
    for (urn, upn, day, _session), code in marks.items():
        if code in POSSIBLE:
            tallies[(urn, day)][category(code)] += 1
            expected_pupils[(urn, day)].add(upn)
    expected = {}
    for urn, days in cal.days.items():
        for day in days:
            tally = tallies[(urn, day)]
            pupils = len(expected_pupils[(urn, day)])
            possible = sum(tally.values())
            row = {
                "pupils_expected": pupils,
                "possible_sessions": possible,
                "present_sessions": tally["present"],
                "aea_sessions": tally["aea"],
                "authorised_absence_sessions": tally["authorised"],
                "unauthorised_absence_sessions": tally["unauthorised"],
                "attendance_rate": (
                    _rate(tally["present"] + tally["aea"], possible) if possible else None
                ),
            }
            withheld = pupils in SMALL
            if withheld:
                row = dict.fromkeys(row)
            expected[(urn, day)] = {
                "academic_year": academic_year(day),
                "open_sessions": cal.open_sessions[urn][day],
                **row,
                "suppressed": withheld,
            }
    return expected


def expected_school_daily_reasons(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (urn, session_date, register_code, category): possible sessions by code, on
    the school days of each school (the generator writes 2024 codes only)."""
    marks = la.marks_known_after(last_day_index)
    cal = calendar(marks)
    tallies: Counter = Counter()
    for (urn, _upn, day, _session), code in marks.items():
        if code in POSSIBLE and day in cal.days[urn]:
            tallies[(urn, day, code, category(code))] += 1
    return {key: {"sessions": sessions} for key, sessions in tallies.items()}


def expected_as_of(la: SyntheticLA, last_day_index: int) -> datetime:
    """The latest transaction time of any event: the last extract's pupils and schools rows."""
    return la.extract_time(last_day_index)
