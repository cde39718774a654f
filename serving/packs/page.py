"""One school's targeting meeting pack as a self-contained HTML page (inline CSS and SVG, no
script, nothing fetched), printable to A4 (serving/packs/style.py).

Its parts, each starting a sheet on paper: the cover (who may receive it, the headline
against England and the region), the pupils to discuss and those newly listed, the school's
cohorts beside the LA's, the weekly trend, part-time timetables, off-site provision and the
N codes left unresolved, and a blank table for the actions agreed at the meeting.
"""

import html
from dataclasses import dataclass

from serving.packs.listed import Listed, ListedPupil
from serving.packs.provision import CodeSessions
from serving.packs.style import STYLE
from serving.packs.tables import cohort_table, pupil_table, week_table
from serving.reports.cohorts import CohortRow
from serving.reports.line_chart import line_figure
from serving.reports.trends import Rates, WeekRow, comparison_table, trend_chart

AGREED_ACTION_ROWS = 8
AUDIENCE = (
    "Restricted: this pack lists pupils by UPN. It is for the school's designated "
    "safeguarding lead and attendance lead and for the LA's attendance team, at the termly "
    "targeting meeting. Do not publish it, forward it or leave it in a shared folder."
)


@dataclass(frozen=True)
class Pack:
    """What one school's pack shows."""

    urn: str
    title: str  # the school's name and URN
    as_of: str
    benchmarks: list[Rates]  # the school's rates, then England's and the region's
    listed: Listed
    school_cohorts: list[CohortRow]
    la_cohorts: list[CohortRow]
    weeks: list[WeekRow]
    provision: tuple[CodeSessions, ...]


def render(pack: Pack) -> str:
    title = html.escape(pack.title)
    parts = (
        _part("pupils", "Pupils to discuss", pupils_section(pack.listed)),
        _part("cohorts", "Cohorts", _cohorts(pack)),
        _part("trend", "Attendance week by week", _trend(pack.weeks)),
        _part(
            "registers",
            "Part-time timetables, off-site provision and unresolved N codes",
            _provision(pack.provision, pack.listed.part_time)
            + _unresolved(pack.listed.unresolved_n),
        ),
        _part("actions", "Agreed actions", _actions()),
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: targeting meeting pack</title>
<style>{STYLE}</style></head><body>
<header><h1>{title}: targeting meeting pack</h1>
<p class="restricted" id="audience">{html.escape(AUDIENCE)}</p>
<p>Figures as of {html.escape(pack.as_of)}, this academic year to date. Every figure is the
true count, small ones included.</p></header>
<main>
<section aria-labelledby="headline-heading"><h2 id="headline-heading">In short</h2>
{_headline(pack)}</section>
{"".join(parts)}
</main>
</body></html>
"""


def _part(key: str, heading: str, body: str) -> str:
    return (
        f'<section class="part" id="{key}" aria-labelledby="{key}-heading">'
        f'<h2 id="{key}-heading">{html.escape(heading)}</h2>{body}</section>'
    )


def _headline(pack: Pack) -> str:
    # The counts of this year's cohorts (attendance_by_characteristic): every pupil on roll,
    # and those of compulsory school age, the population the DfE's figures count.
    groups = {(r.characteristic, r.group_value): r for r in pack.school_cohorts}
    every = groups.get(("all", "all"))
    compulsory = groups.get(("compulsory_school_age", "true"))
    items = (
        ("Pupils on roll (enrolments, all ages)", every.enrolments if every else 0),
        ("Of compulsory school age (5 to 15)", compulsory.enrolments if compulsory else 0),
        ("Persistently absent (all ages)", every.persistent_absence_enrolments if every else 0),
        ("Severely absent (all ages)", every.severe_absence_enrolments if every else 0),
        ("Pupils on the action list", len(pack.listed.pupils)),
        ("Newly listed since the last publication", len(pack.listed.newly_listed)),
    )
    rows = "".join(f"<dt>{name}</dt><dd>{value:,}</dd>" for name, value in items)
    return (
        f'<dl id="headline">{rows}</dl>'
        "<p>The DfE's published figures count pupils of compulsory school age in "
        "state-funded schools: compare them with the school's compulsory-school-age column, "
        "not the all-pupil one.</p>" + comparison_table(pack.benchmarks)
    )


def pupils_section(listed: Listed) -> str:
    return (
        "<p>Each pupil is listed once, in the first list that applies, in the order of the "
        "LA's action list (priority 1 = act first); every reason the pupil is listed is "
        "given. New: listed since the last publication, or with a new reason.</p>"
        + pupil_table("severe", "Severely absent (50% or more of sessions missed)", listed.severe)
        + pupil_table(
            "persistent",
            "Persistently absent (10% to under 50% of sessions missed)",
            listed.persistent,
        )
        + pupil_table("other", "On the action list for another reason", listed.other)
        + _newly_listed(listed)
    )


def _newly_listed(listed: Listed) -> str:
    # On the first publication (no list before it) every pupil is new: the lists above say so
    # row by row, and a second copy of them would double the pack.
    caption = "Newly listed since the last publication"
    if listed.pupils and len(listed.newly_listed) == len(listed.pupils):
        return (
            f'<h3 id="new-heading">{caption}</h3><p id="new-all">Every pupil above is new: '
            "none of them was on the list of the last publication (or there was none).</p>"
        )
    return pupil_table("new", caption, listed.newly_listed)


def _cohorts(pack: Pack) -> str:
    return (
        "<p>Every pupil on roll in their latest group, the school beside the LA. The DfE "
        "does not publish these groups' rates for this year to date: the England comparison "
        "is the headline's.</p>" + cohort_table(pack.school_cohorts, pack.la_cohorts)
    )


def _trend(weeks: list[WeekRow]) -> str:
    chart = trend_chart(weeks)
    return f"<p>{html.escape(chart.note)}</p>{line_figure(chart)}{week_table(weeks)}"


def _provision(codes: tuple[CodeSessions, ...], part_time: tuple[ListedPupil, ...]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(c.label)}</th><td class="number">{c.sessions:,}</td>'
        f'<td class="number">{c.days:,}</td></tr>'
        for c in codes
    )
    return (
        '<h3 id="provision-heading">Part-time timetables and education away from school</h3>'
        "<p>A part-time timetable must be agreed with the parent, time-limited and reviewed; "
        "pupils educated off site still need their attendance checked.</p>"
        '<table id="provision-table" aria-labelledby="provision-heading"><thead><tr>'
        '<th scope="col">Register code</th><th scope="col" class="number">Sessions</th>'
        '<th scope="col" class="number">School days</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        + pupil_table(
            "part-time", "On a part-time timetable (C2) in each of the last school weeks", part_time
        )
    )


def _unresolved(pupils: tuple[ListedPupil, ...]) -> str:
    heading = '<h3 id="unresolved-heading">N codes left unresolved</h3>'
    intro = (
        "<p>Sessions still coded N (no reason yet) more than 5 school days after the "
        "session: establish the reason and correct the register, oldest first.</p>"
    )
    if not pupils:
        return heading + intro + '<p id="unresolved-none">No pupil.</p>'
    rows = "".join(
        f'<tr><th scope="row">{html.escape(p.upn)}</th>'
        f'<td class="number">{p.unresolved_n_sessions:,}</td>'
        f"<td>{p.oldest_unresolved_n_date:%d %b %Y}</td></tr>"
        for p in pupils
    )
    return (
        heading
        + intro
        + '<table id="unresolved-table" aria-labelledby="unresolved-heading"><thead><tr>'
        '<th scope="col">UPN</th><th scope="col" class="number">Sessions still N</th>'
        f'<th scope="col">Oldest</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _actions() -> str:
    blank = "<tr>" + "<td></td>" * 4 + "</tr>"
    return (
        "<p>Written in at the meeting: what the school, the LA and others will do, for which "
        "pupils or cohorts, and when it is reviewed.</p>"
        '<table class="actions" id="actions-table" aria-label="Agreed actions"><thead><tr>'
        '<th scope="col">Action (pupil or cohort)</th><th scope="col">Who</th>'
        '<th scope="col">By when</th><th scope="col">Review</th></tr></thead>'
        f"<tbody>{blank * AGREED_ACTION_ROWS}</tbody></table>"
    )
