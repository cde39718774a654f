"""The peers: `pupil_attendance` and `attendance_by_sen` as a user would otherwise compute them
from the same event store, each in its own process (for its peak memory):

    python -m bench.peers PEER INPUT_DIR OUTPUT_DIR DETAIL.json

INPUT_DIR holds the event tables as Parquet (`bench.workloads.export_events`) and the register
code list; each peer writes `pupil_attendance.parquet` and `attendance_by_sen.parquet` there
for `bench.peers.compare`. The rules are MARTS.md's, as in the dbt models: the latest mark of
each session wins (transaction time, then extract, ingestion, line), code categories by code
set, possible = present + AEA + authorised + unauthorised, persistent at 10% and severe at 50%
by integer comparison, SEN provision as last reported, counts from 1 up to dbt's
`suppress_counts_below` withheld.

    sql.py       bare DuckDB (the lower bound), and the SQL that PostgreSQL runs too
    postgres.py  PostgreSQL: the events loaded with COPY, then the same SQL
    frames.py    Polars (lazy) and idiomatic vectorised pandas
    __main__.py  the child process: one peer, timed
    compare.py   a peer's result checked equal to the pipeline's marts, row for row
    runs.py      every peer on every workload's store, within its time and memory limits
"""

# The marts' columns that every peer computes (rates are these divided; as_of is the run's).
PUPIL_COLUMNS = [
    "urn",
    "upn",
    "academic_year",
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_absence_sessions",
    "unauthorised_absence_sessions",
    "is_persistent_absence",
    "is_severe_absence",
    "sen_provision",
    "sen_primary_need",
]
SEN_COLUMNS = [
    "level",
    "area",
    "academic_year",
    "sen_provision",
    "schools",
    "enrolments",
    "possible_sessions",
    "absence_sessions",
    "persistent_absence_enrolments",
    "severe_absence_enrolments",
    "suppressed",
]
# Marks from this date are read with the 2024 code set, as stg_register__mark_events does.
CODE_SET_2024_FROM = "2024-08-19"
