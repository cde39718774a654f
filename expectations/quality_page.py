"""The quality page: one audit's recorded results as a self-contained HTML page.

It replaces Great Expectations' Data Docs, which load jQuery, Bootstrap, Vega and fonts from
public CDNs and so render blank on a server without internet, and which show a failed
warning-severity expectation as "Failed" although it blocked nothing. This page has its style
inline and no script, image or font: it reads the same with no network at all. Each check is
labelled by what its failure means for publication: "Failed" (critical: publication
withheld), "Warning" or "Info" (reported; publication goes ahead), "Passed".

Rendering only: `quality_docs.py` reads the record and writes the files.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from expectations.suite import BLOCKING

# What a failed check of each severity is called on the page, and its style class.
_FAILED_AS = {BLOCKING: "Failed", "warning": "Warning", "info": "Info"}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; max-width: 80rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; width: 100%; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border: 1px solid #b1b4b6; padding: 0.3rem 0.5rem; text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
th { background: #f3f2f1; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: bold; }
td.status { white-space: nowrap; }
.passed { background: #e6f4ea; color: #0b5d1e; }
.failed { background: #fde8e8; color: #8a1111; }
.warning { background: #fff4d6; color: #6b4500; }
.info { background: #e8f1fb; color: #0b3d73; }
.verdict { padding: 0.6rem 0.8rem; border-left: 0.4rem solid currentColor; }
code { font-size: 0.9em; }
dt { font-weight: bold; } dd { margin: 0 0 0.5rem 1rem; }
"""

_LEGEND = """
<h2>How to read this page</h2>
<dl>
<dt class="status failed">Failed</dt>
<dd>A blocking (critical) check found a problem: nothing new was published by that run and the
previous publication stayed in place. Correct the records at source, or the step that builds
the table, then run the pipeline again.</dd>
<dt class="status warning">Warning</dt>
<dd>A warning-severity check found a problem. It does not block publication: the run published
if nothing failed. Follow it up (for example, ask the school to replace N codes).</dd>
<dt class="status info">Info</dt>
<dd>An information-only check found something worth knowing; it blocks nothing.</dd>
<dt class="status passed">Passed</dt>
<dd>The check found nothing wrong.</dd>
</dl>
<p>"Could not be checked" means the check itself could not run (a missing column, say); the
pipeline's log has the details. The sample column holds up to 5 offending values, which may
include UPNs: this page is restricted like the warehouse it sits in.</p>
"""


@dataclass(frozen=True)
class RecordedCheck:
    """One expectation's result as recorded in ops.quality_runs."""

    table: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    observed_value: float | None
    description: str | None
    error: str | None
    sample: str | None  # a JSON list, as recorded

    @property
    def status(self) -> str:
        return "Passed" if self.success else _FAILED_AS.get(self.severity, "Failed")


@dataclass(frozen=True)
class RecordedAudit:
    """One audit (one run of the checkpoint) as recorded: who ran it, when, what it found."""

    run_id: str
    checked_at: datetime
    checks: int
    failures: int
    warnings: int
    infos: int

    @property
    def page_name(self) -> str:
        """Its page's file name, from the audit's time (the same for the same record)."""
        return self.checked_at.astimezone(UTC).strftime("%Y-%m-%dT%H%M%S.%fZ") + ".html"

    @property
    def passed(self) -> int:
        return self.checks - self.failures - self.warnings - self.infos

    @property
    def verdict(self) -> str:
        if self.failures:
            checks = "check" if self.failures == 1 else "checks"
            return f"Publication withheld: {self.failures} blocking {checks} failed."
        if self.warnings or self.infos:
            found = _counted(self.warnings, "warning") + (
                f" and {_counted(self.infos, 'info')}" if self.infos else ""
            )
            return f"Passed with {found}: nothing blocks publication."
        return "Passed: every check found nothing wrong; nothing blocks publication."

    @property
    def verdict_class(self) -> str:
        if self.failures:
            return "failed"
        return "warning" if self.warnings or self.infos else "passed"


def render_run_page(audit: RecordedAudit, checks: Sequence[RecordedCheck]) -> str:
    """The page of one audit, linking back to the index one folder up."""
    body = [
        '<p><a href="../index.html">All kept audits</a></p>',
        f"<h1>Quality checks of run {_text(audit.run_id)}</h1>",
        *_audit_body(audit, checks),
        _LEGEND,
    ]
    return _page(f"Quality checks of run {audit.run_id}", body)


def render_index(
    audits: Sequence[RecordedAudit], latest_checks: Sequence[RecordedCheck], kept: int
) -> str:
    """The index: the latest audit in full, then every kept audit (newest first), linked."""
    if not audits:
        body = ["<h1>Quality checks</h1>", "<p>No audit has been recorded yet.</p>"]
        return _page("Quality checks", body)
    latest = audits[0]
    rows = "".join(
        "<tr>"
        f'<td><a href="runs/{_text(audit.page_name)}">{_text(_when(audit.checked_at))}</a></td>'
        f"<td>{_text(audit.run_id)}</td>"
        f'<td class="{audit.verdict_class}"><strong>{_text(audit.verdict)}</strong></td>'
        f'<td class="number">{audit.checks}</td><td class="number">{audit.failures}</td>'
        f'<td class="number">{audit.warnings}</td><td class="number">{audit.infos}</td>'
        "</tr>"
        for audit in audits
    )
    runs = "audit is" if kept == 1 else f"{kept} audits are"
    body = [
        "<h1>Quality checks</h1>",
        f"<p>The latest audit, then every audit kept. The last {runs} kept "
        "(setting ATTENDANCE_QUALITY_RUNS_KEPT); every result stays in the warehouse's "
        "<code>ops.quality_runs</code>.</p>",
        f"<h2>Latest audit: run {_text(latest.run_id)}</h2>",
        f'<p><a href="runs/{_text(latest.page_name)}">This audit\'s own page</a></p>',
        *_audit_body(latest, latest_checks, level=3),
        "<h2>Kept audits</h2>",
        "<table><caption>Kept audits, newest first</caption><thead><tr>"
        '<th scope="col">Checked at (UTC)</th><th scope="col">Run</th>'
        '<th scope="col">Result</th><th scope="col">Checks</th><th scope="col">Failed</th>'
        '<th scope="col">Warnings</th><th scope="col">Info</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>",
        _LEGEND,
    ]
    return _page("Quality checks", body)


def _audit_body(audit: RecordedAudit, checks: Sequence[RecordedCheck], level: int = 2) -> list[str]:
    """Verdict, counts, what needs attention, then every check by table."""
    heading = f"h{level}"
    parts = [
        f'<p class="verdict {audit.verdict_class}"><strong>{_text(audit.verdict)}</strong></p>',
        f"<p>Checked at {_text(_when(audit.checked_at))} UTC: {audit.checks} checks, "
        f"{audit.passed} passed, {audit.failures} failed, {_counted(audit.warnings, 'warning')}, "
        f"{audit.infos} info.</p>",
    ]
    attention = [check for check in checks if not check.success]
    # Blocking failures first: they are why a run did not publish.
    attention.sort(key=lambda check: check.severity != BLOCKING)
    if attention:
        parts += [
            f"<{heading}>Needs attention</{heading}>",
            _checks_table("Checks that found a problem", attention, with_table=True),
        ]
    parts.append(f"<{heading}>Every check, by table</{heading}>")
    tables = list(dict.fromkeys(check.table for check in checks))
    for table in tables:
        own = [check for check in checks if check.table == table]
        parts.append(_checks_table(f"Table {table}", own, with_table=False))
    return parts


def _checks_table(caption: str, checks: Sequence[RecordedCheck], *, with_table: bool) -> str:
    head = ['<th scope="col">Status</th>']
    if with_table:
        head.append('<th scope="col">Table</th>')
    head += [
        '<th scope="col">Check</th>',
        '<th scope="col">Column</th>',
        '<th scope="col">Rule</th>',
        '<th scope="col">Found</th>',
        '<th scope="col">Sample (restricted)</th>',
    ]
    rows = []
    for check in checks:
        status = check.status
        label = status if check.error is None else f"{status} (could not be checked)"
        cells = [f'<td class="status {status.lower()}">{_text(label)}</td>']
        if with_table:
            cells.append(f"<td>{_text(check.table)}</td>")
        cells += [
            f"<td><code>{_name(check.expectation)}</code></td>",
            f"<td>{_name(check.column or '')}</td>",
            f"<td>{_text(check.description or '')}</td>",
            f"<td>{_text(_found(check))}</td>",
            f"<td>{_sample(check.sample)}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{_text(caption)}</caption><thead><tr>{''.join(head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _found(check: RecordedCheck) -> str:
    if check.error is not None:
        return f"could not be checked ({check.error})"
    if check.unexpected_count is not None:
        rows = "row breaks" if check.unexpected_count == 1 else "rows break"
        return f"{check.unexpected_count} {rows} this rule"
    if check.observed_value is not None:
        value = check.observed_value
        return f"found {int(value) if float(value).is_integer() else value}"
    return ""


def _sample(recorded: str | None) -> str:
    if not recorded:
        return ""
    try:
        values = json.loads(recorded)
    except ValueError:
        values = [recorded]
    return ", ".join(f"<code>{_text(str(value))}</code>" for value in values)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 or noun == "info" else "s")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _name(value: str) -> str:
    # Long snake_case names may break after an underscore, and only there.
    return _text(value).replace("_", "_<wbr>")


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _page(title: str, body: Sequence[str]) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
