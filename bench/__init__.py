"""`make bench`: the pipeline at local-authority and national scale, and its peers.

Its modules, one job each:

    run.py        the command line: which parts to measure, at which scale
    workloads.py  the scales; the stores and landing folders the workloads start from
    runners.py    the workloads measured: W1 mornings, the W2 replay, the W3 national sweep
    peers/        the same two marts computed by bare DuckDB, PostgreSQL, Polars and pandas
    ingest_bound.py  child process: a morning's ingest by bare DuckDB, the ingest's bound
    measure.py    one measured step in its own process: time, peak memory, load, limits
    dag_run.py    child process: one real run of the daily DAG (W1, W3)
    replay.py     child process: every mart rebuilt from the event store (W2)
    verdicts.py   the issue's targets, and each result against them
    record.py     results.json: written, combined from separate runs, where it was taken
    report.py     RESULTS.md from results.json
"""

from pathlib import Path

# The record (results.json, RESULTS.md) is kept here, and the working data under work/.
BENCH_DIR = Path(__file__).resolve().parent
