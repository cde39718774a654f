"""The pack's tables of pupils, cohorts and weeks: a heading row that repeats on each printed
sheet, a row heading per row (a UPN, a group, a week), rates as percentages with one decimal."""

import html

from serving.packs.listed import ListedPupil
from serving.reports.cohorts import CohortRow
from serving.reports.headlines import percent
from serving.reports.trends import WeekRow


def pupil_table(key: str, caption: str, pupils: tuple[ListedPupil, ...]) -> str:
    heading = f'<h3 id="{key}-heading">{html.escape(caption)}</h3>'
    if not pupils:
        return heading + f'<p id="{key}-none">No pupil.</p>'
    head = (
        '<tr><th scope="col" class="number">Priority</th><th scope="col">UPN</th>'
        '<th scope="col">Year</th><th scope="col">SEN</th>'
        '<th scope="col" class="number">Possible sessions</th>'
        '<th scope="col" class="number">Absence</th><th scope="col">Why listed</th>'
        '<th scope="col">New</th></tr>'
    )
    body = "".join(
        f'<tr><td class="number">{p.priority:,}</td><th scope="row">{html.escape(p.upn)}</th>'
        f"<td>{html.escape(p.ncy or '')}</td><td>{html.escape(p.sen_provision or '')}</td>"
        f'<td class="number">{p.possible_sessions:,}</td>'
        f'<td class="number">{p.absence_percent}</td>'
        f"<td><ul>{''.join(f'<li>{html.escape(r)}.</li>' for r in p.reasons)}</ul></td>"
        f"<td>{'New' if p.newly_listed else ''}</td></tr>"
        for p in pupils
    )
    return (
        f'{heading}<table id="{key}-table" aria-labelledby="{key}-heading">'
        f"<thead>{head}</thead><tbody>{body}</tbody></table>"
    )


def cohort_table(school: list[CohortRow], la: list[CohortRow]) -> str:
    if not school:
        return '<p id="cohorts-none">No pupil on roll yet.</p>'
    at_la = {(r.characteristic, r.group_value): r for r in la}
    head = (
        '<tr><th scope="col">Group</th><th scope="col" class="number">Pupils</th>'
        '<th scope="col" class="number">Absence, school</th>'
        '<th scope="col" class="number">Absence, LA</th>'
        '<th scope="col" class="number">Persistent, school</th>'
        '<th scope="col" class="number">Persistent, LA</th>'
        '<th scope="col" class="number">Severe, school</th>'
        '<th scope="col" class="number">Severe, LA</th></tr>'
    )
    rows = []
    for row in school:
        other = at_la.get((row.characteristic, row.group_value))
        label = (
            row.group_label
            if row.characteristic == "all"
            else f"{row.characteristic_label}: {row.group_label}"
        )
        cells = (
            f"{row.enrolments:,}",
            percent(row.overall_absence_rate),
            percent(other.overall_absence_rate if other else None),
            percent(row.persistent_absence_rate),
            percent(other.persistent_absence_rate if other else None),
            percent(row.severe_absence_rate),
            percent(other.severe_absence_rate if other else None),
        )
        rows.append(
            f'<tr><th scope="row">{html.escape(label)}</th>'
            + "".join(f'<td class="number">{c}</td>' for c in cells)
            + "</tr>"
        )
    return (
        '<table id="cohorts-table"><caption>Absence, persistent and severe absence rates by '
        "group: the school beside the LA</caption>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def week_table(weeks: list[WeekRow]) -> str:
    if not weeks:
        return ""
    head = (
        '<tr><th scope="col">School week</th>'
        '<th scope="col" class="number">Possible sessions</th>'
        '<th scope="col" class="number">Attendance, the week</th>'
        '<th scope="col" class="number">Attendance, year to date</th>'
        '<th scope="col" class="number">Last year, to date</th></tr>'
    )
    body = "".join(
        f'<tr><th scope="row">Week {w.school_week}, w/c {w.week_start:%d %b %Y}</th>'
        f'<td class="number">{w.possible_sessions:,}</td>'
        f'<td class="number">{percent(w.attendance_rate)}</td>'
        f'<td class="number">{percent(w.ytd_attendance_rate)}</td>'
        f'<td class="number">{percent(w.last_year_ytd_attendance_rate)}</td></tr>'
        for w in weeks
    )
    return (
        '<table id="weeks-table"><caption>Attendance by school week</caption>'
        f"<thead>{head}</thead><tbody>{body}</tbody></table>"
    )
