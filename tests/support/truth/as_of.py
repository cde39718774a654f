"""`as_of` computed straight from the generator's record: the latest time the data shows.

Independent of the models: a delivered day's pupils rows carry its extract time, a mark the
time the MIS wrote it when the school sends `last_modified`, else its extract time
(docs/feed.md). Only what was known by the cut-off counts: written and exported by then.
"""

from datetime import datetime

from synthetic import SyntheticLA


def latest_transaction_time(
    la: SyntheticLA, days: range, cutoff: datetime | None = None
) -> datetime | None:
    """The latest transaction time of any pupil or mark row in the extracts of `days`
    known by `cutoff` (every one when None)."""
    latest: datetime | None = None

    def known(moment: datetime, extracted: datetime) -> bool:
        return cutoff is None or (moment <= cutoff and extracted <= cutoff)

    for day_index in days:
        extracted = la.extract_time(day_index)
        window = {la.days[i] for i in la.window(day_index)}
        candidates = [extracted]
        for school in la.schools:
            if not school.sends_last_modified:
                continue
            for (urn, _upn, session_date, _session), mark in la.marks.items():
                if urn == school.urn and session_date in window:
                    candidates.append(mark.as_seen_on(day_index)[1])
        for moment in candidates:
            if known(moment, extracted) and (latest is None or moment > latest):
                latest = moment
    return latest
