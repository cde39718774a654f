"""The run report: a short Markdown account of one register day's publication.

`WAREHOUSE/reports/<register day>.md`: the headline figures of the publication (the same
summary `make run` prints), the marts published with their rows, the schools whose extract
did not arrive, and the alerts of the run that published. Written beside its final place
and renamed into it; re-running a day replaces it.
"""

import os
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.alerts import alerts_for_run
from ingestion.locations import Locations
from ingestion.summary import summarise


def write_report(
    locations: Locations, register_day: date, publication: dict[str, Any] | None
) -> Path:
    """Write the report of the publication for `register_day`; `publication` is the asset
    event's extra of the run that published it (None: a report without run details)."""
    publication = publication or {}
    summary = summarise(locations).render()
    lines = [
        f"# Attendance run report: register day {register_day.isoformat()}",
        "",
        f"- DAG run: `{publication.get('run_id', 'unknown')}`",
        f"- Published at: {publication.get('published_at', 'unknown')}",
        f"- Marts as of: {publication.get('as_of', 'unknown')}",
        f"- Cut-off of the build: {publication.get('cutoff') or 'every event known'}",
        "",
        "## Summary",
        "",
        "```",
        summary,
        "```",
        "",
    ]
    rows = publication.get("rows") or {}
    if rows:
        lines += ["## Published marts", "", "| mart | rows |", "| --- | ---: |"]
        lines += [f"| {mart} | {count} |" for mart, count in sorted(rows.items())]
        lines.append("")
    missing = publication.get("missing_schools") or []
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
    run_id = publication.get("run_id")
    alerts = alerts_for_run(locations.warehouse, run_id) if run_id else []
    if alerts:
        lines += ["## Alerts of the run", "", "| kind | task | school | reason |"]
        lines.append("| --- | --- | --- | --- |")
        for alert in alerts:
            reason = alert.reason.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {alert.kind} | {alert.task_id} | {alert.school or ''} | {reason} |")
        lines.append("")
    folder = locations.warehouse / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{register_day.isoformat()}.md"
    staged = folder / f".{final.name}.{os.getpid()}.tmp"
    staged.write_text("\n".join(lines))
    os.replace(staged, final)
    return final
