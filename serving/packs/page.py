"""One school's targeting meeting pack as a self-contained HTML page (inline CSS and SVG, no
script, nothing fetched), printable to A4 (serving/packs/style.py).

Its parts, each a sheet on paper: the cover (who may receive it, the headline figures), the
pupils to discuss, the weekly trend, part-time timetables and off-site provision with the
N codes left unresolved, and a blank table for the actions agreed at the meeting.
"""

import html
from dataclasses import dataclass

from serving.packs.listed import Listed, ListedPupil
from serving.packs.provision import CodeSessions
from serving.packs.style import STYLE
from serving.reports.charts import Chart, figure
from serving.reports.figures import Headline

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
    headline: Headline
    listed: Listed
    weekly: Chart
    provision: tuple[CodeSessions, ...]


def render(pack: Pack) -> str:
    title = html.escape(pack.title)
    parts = (
        _part("pupils", "Pupils to discuss", _pupils(pack.listed)),
        _part("trend", "Attendance week by week", _trend(pack.weekly)),
        _part(
            "registers",
            "Part-time timetables, off-site provision and unresolved N codes",
            _provision(pack.provision) + _unresolved(pack.listed.unresolved_n),
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
<p>Figures as of {html.escape(pack.as_of)}, this academic year to date, for every pupil on
the school's roll (all ages). Every figure is the true count.</p></header>
<main>
<section aria-labelledby="headline-heading"><h2 id="headline-heading">In short</h2>
{_headline(pack.headline, pack.listed)}</section>
{"".join(parts)}
</main>
</body></html>
"""


def _part(key: str, heading: str, body: str) -> str:
    return (
        f'<section class="part" id="{key}" aria-labelledby="{key}-heading">'
        f'<h2 id="{key}-heading">{html.escape(heading)}</h2>{body}</section>'
    )


def _headline(top: Headline, listed: Listed) -> str:
    rate = top.attended_sessions / top.possible_sessions if top.possible_sessions else None
    items = (
        ("Pupils on roll (enrolments)", f"{top.enrolments:,}"),
        ("Attendance rate", "no sessions yet" if rate is None else f"{rate:.1%}"),
        ("Persistently absent", f"{top.persistent_absence:,}"),
        ("Severely absent", f"{top.severe_absence:,}"),
        ("Pupils on the action list", f"{len(listed.pupils):,}"),
    )
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in items)
    return f'<dl id="headline">{rows}</dl>'


def _pupils(listed: Listed) -> str:
    return (
        "<p>Each pupil is listed once, in the first list that applies, highest absence "
        "first; every reason the pupil is on the LA's action list is given.</p>"
        + _pupil_table("severe", "Severely absent (50% or more of sessions missed)", listed.severe)
        + _pupil_table(
            "persistent",
            "Persistently absent (10% to under 50% of sessions missed)",
            listed.persistent,
        )
        + _pupil_table("other", "On the action list for another reason", listed.other)
    )


def _pupil_table(key: str, caption: str, pupils: tuple[ListedPupil, ...]) -> str:
    heading = f'<h3 id="{key}-heading">{html.escape(caption)}</h3>'
    if not pupils:
        return heading + f'<p id="{key}-none">No pupil.</p>'
    head = (
        '<tr><th scope="col">UPN</th><th scope="col">Year</th><th scope="col">SEN</th>'
        '<th scope="col" class="number">Possible sessions</th>'
        '<th scope="col" class="number">Absence</th><th scope="col">Why listed</th></tr>'
    )
    body = "".join(
        f'<tr><th scope="row">{html.escape(p.upn)}</th><td>{html.escape(p.ncy or "")}</td>'
        f"<td>{html.escape(p.sen_provision or '')}</td>"
        f'<td class="number">{p.possible_sessions:,}</td>'
        f'<td class="number">{p.absence_percent}</td>'
        f"<td><ul>{''.join(f'<li>{html.escape(r)}.</li>' for r in p.reasons)}</ul></td></tr>"
        for p in pupils
    )
    return (
        f'{heading}<table id="{key}-table" aria-labelledby="{key}-heading">'
        f"<thead>{head}</thead><tbody>{body}</tbody></table>"
    )


def _trend(weekly: Chart) -> str:
    return f"<p>{html.escape(weekly.note)}</p>{figure(weekly, table_open=True)}"


def _provision(codes: tuple[CodeSessions, ...]) -> str:
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
    blank = "<tr>" + '<td><span class="blank"></span></td>' * 4 + "</tr>"
    return (
        "<p>Written in at the meeting: what the school, the LA and others will do, for which "
        "pupils or cohorts, and when it is reviewed.</p>"
        '<table class="actions" id="actions-table" aria-label="Agreed actions"><thead><tr>'
        '<th scope="col">Action (pupil or cohort)</th><th scope="col">Who</th>'
        '<th scope="col">By when</th><th scope="col">Review</th></tr></thead>'
        f"<tbody>{blank * AGREED_ACTION_ROWS}</tbody></table>"
    )
