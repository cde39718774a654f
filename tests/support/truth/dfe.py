"""The DfE-style daily feed (`dfe_daily_attendance`) computed straight from the generator's
record, as truth/registers.py computes the other marts: the category of each code and the
DfE column of each reason are written out here from docs/domain.md and docs/bi.md, not read
from the project's seed."""

from collections import Counter, defaultdict

from synthetic import SyntheticLA
from tests.support.truth.registers import POSSIBLE, academic_year, calendar, category

# The DfE's daily attendance column of each 2024 code (docs/bi.md, "The DfE-style feed").
REASON_COLUMN = {
    "/": "reason_present_am",
    "\\": "reason_present_pm",
    "L": "reason_l_present_late_before_registers_closed",
    "K": "reason_k_aea_la_arranged_provision",
    "V": "reason_v_aea_educational_visit_trip",
    "P": "reason_p_aea_approved_sporting_activity",
    "W": "reason_w_aea_work_experience",
    "B": "reason_b_aea_education_off_site",
    "C1": "reason_c1_authorised_regulated_performance",
    "M": "reason_m_authorised_medical_dental",
    "J1": "reason_j1_authorised_interview",
    "S": "reason_s_authorised_study_leave",
    "C2": "reason_c2_authorised_part_time_timetable",
    "C": "reason_c_authorised_other",
    "T": "reason_t_authorised_grt_absence",
    "R": "reason_r_authorised_religious_observance",
    "I": "reason_i_authorised_illness",
    "E": "reason_e_authorised_excluded",
    "G": "reason_g_unauthorised_holiday",
    "N": "reason_n_no_reason_yet",
    "O": "reason_o_other_unauthorised",
    "U": "reason_u_unauthorised_late_after_registers_closed",
}
TOTALS = {
    "present": "present_sessions",
    "aea": "approved_educational_activity",
    "authorised": "authorised_absence",
    "unauthorised": "unauthorised_absence",
}


def expected_dfe_daily_attendance(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (urn, attendance_date), for each school day of each school: true counts."""
    marks = la.marks_known_after(last_day_index)
    cal = calendar(marks)
    tallies: dict[tuple, Counter] = defaultdict(Counter)
    for (urn, _upn, day, _session), code in marks.items():
        if code in POSSIBLE:
            tallies[(urn, day)][code] += 1
    expected = {}
    for urn, days in cal.days.items():
        for day in days:
            by_code = tallies[(urn, day)]
            totals = dict.fromkeys(TOTALS.values(), 0)
            for code, sessions in by_code.items():
                totals[TOTALS[category(code)]] += sessions
            expected[(urn, day)] = {
                "academic_year": academic_year(day),
                "possible_sessions": sum(by_code.values()),
                **totals,
                "overall_attendance": totals["present_sessions"]
                + totals["approved_educational_activity"],
                "overall_absence": totals["authorised_absence"] + totals["unauthorised_absence"],
                **{column: by_code[code] for code, column in REASON_COLUMN.items()},
            }
    return expected
