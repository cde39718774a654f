"""What an audit checks: whole tables, or only the rows new since the last publication.

Both answers depend on the last publication's record (`publication/record.py`), which the
caller reads once and passes in: the audit never reads the published folder itself.
"""

import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

# Checked before the marts at every audit: the staged event store and the current register.
UPSTREAM_TABLES = ("stg_register__mark_events", "fct_sessions")

# A mart may shrink a little from one publication to the next (pupils leave, amendments), but
# a fall of more than this share is a collapse to be looked at before it is published.
ROW_COUNT_TOLERANCE = 0.10

# ATTENDANCE_AUDIT=full makes every audit check whole tables (e.g. after a repair).
AUDIT_SCOPE_VARIABLE = "ATTENDANCE_AUDIT"


def audit_scope(previous: Mapping[str, Any] | None, as_of: datetime | None) -> tuple[bool, str]:
    """Whether this audit may check only the rows new since the last publication, and why.

    The upstream suites (every stored mark event, every session of the year) grow with the
    year; the marts do not. A daily audit checks the upstream rows stored or changed since the
    last publication, which the audits before it checked; the first audit of each week (by the
    build's as_of), the first ever, and any with ATTENDANCE_AUDIT=full check everything, so a
    rule added to a suite, or a repair made in the store, is checked on the whole year within
    a week."""
    previous = previous or {}
    if os.environ.get(AUDIT_SCOPE_VARIABLE, "").lower() == "full":
        return False, f"{AUDIT_SCOPE_VARIABLE}=full"
    if not previous.get("loaded_through") or not previous.get("as_of"):
        return False, "no earlier publication records what it checked"
    before = datetime.fromisoformat(previous["as_of"])
    if as_of is None or as_of < before:
        return False, "the build's as_of is not after the last publication's"
    if as_of.isocalendar()[:2] != before.isocalendar()[:2]:
        return False, "the first audit of the week checks whole tables"
    return True, f"rows new since the publication as of {previous['as_of']}"


def publication_parameters(
    previous: Mapping[str, Any] | None, marts: Sequence[str]
) -> dict[str, Any]:
    """Values for the suites' ${...} placeholders, from the last complete publication."""
    previous = previous or {}
    rows = previous.get("rows", {})
    parameters: dict[str, Any] = {
        # Re-running a day publishes the same as_of, so "forward" means "not backwards".
        "previous_as_of": previous.get("as_of") or "0001-01-01 00:00:00+00",
        "previous_loaded_through": previous.get("loaded_through") or "0001-01-01 00:00:00+00",
    }
    for mart in marts:
        before = rows.get(mart)
        parameters[f"min_rows_{mart}"] = (
            math.floor(before * (1 - ROW_COUNT_TOLERANCE)) if before else 0
        )
    return parameters
