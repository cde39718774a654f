"""Published figures computed straight from the generator's record, in plain Python.

Deliberately independent of the project's SQL and of its code seed: the categories are
written out here from shared/DOMAIN.md.
"""

from fractions import Fraction

from ingestion.synthetic import SyntheticLA

PRESENT = {"/", "\\", "L"}
AEA = {"K", "V", "P", "W", "B"}
AUTHORISED = {"C1", "M", "J1", "S", "C2", "C", "T", "R", "I", "E"}
UNAUTHORISED = {"G", "N", "O", "U"}


def academic_year(day) -> str:
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


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
    sen = {(e.urn, e.upn): e.sen_on(last_day_index) for e in la.enrolments}
    expected = {}
    for key, row in counts.items():
        possible = row["present"] + row["aea"] + row["auth"] + row["unauth"]
        if possible == 0:
            continue
        absence = Fraction(row["auth"] + row["unauth"], possible)
        status = sen[key[:2]]
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
        }
    return expected
