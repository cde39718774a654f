"""The run report: a short Markdown account of one register day's publication.

`WAREHOUSE/reports/<register day>.md`: the headline figures of the publication (the same
summary `make run` prints), the marts published with their rows, the schools whose extract
did not arrive, and the alerts of the run that published. Written beside its final place
and renamed into it; re-running a day replaces it.
"""

from datetime import date
from pathlib import Path

from publication.record import PublicationRecord
from serving.summary import summarise
from warehouse.alerts import alerts_for_run
from warehouse.files import write_text_atomically
from warehouse.locations import Locations


def write_report(locations: Locations, register_day: date, publication: PublicationRecord) -> Path:
    """Write the report of `publication`, the publication for `register_day`."""
    summary = summarise(locations.published, publication).render()
    lines = [
        f"# Attendance run report: register day {register_day.isoformat()}",
        "",
        f"- DAG run: `{publication.run.run_id or 'unknown'}`",
        f"- Published at: {publication.published_at}",
        f"- Marts as of: {publication.as_of or 'unknown'}",
        f"- Cut-off of the build: {publication.run.cutoff or 'every event known'}",
        "",
        "## Summary",
        "",
        "```",
        summary,
        "```",
        "",
    ]
    rows = publication.rows
    if rows:
        lines += ["## Published marts", "", "| mart | rows |", "| --- | ---: |"]
        lines += [f"| {mart} | {count} |" for mart, count in sorted(rows.items())]
        lines.append("")
    missing = publication.run.missing_schools
    lines += ["## Extracts", ""]
    if missing:
        lines.append(
            f"No extract for {register_day.isoformat()} arrived for {len(missing)} school(s): "
            + ", ".join(missing)
            + ". Their figures stop at their latest extract."
        )
    else:
        lines.append(f"Every known school's extract for {register_day.isoformat()} arrived.")
    lines.append("")
    run_id = publication.run.run_id
    alerts = alerts_for_run(locations.warehouse, run_id) if run_id else []
    if alerts:
        lines += ["## Alerts of the run", "", "| kind | task | school | reason |"]
        lines.append("| --- | --- | --- | --- |")
        for alert in alerts:
            reason = alert.reason.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {alert.kind} | {alert.task_id} | {alert.school or ''} | {reason} |")
        lines.append("")
    report = locations.warehouse / "reports" / f"{register_day.isoformat()}.md"
    return write_text_atomically(report, "\n".join(lines))
