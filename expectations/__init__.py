"""The quality gate: Great Expectations suites (`suites/*.json`) run against the warehouse.

`suite.py` reads and checks the suite files, `checkpoint.py` runs them in one GX checkpoint
(on DuckDB, with the workarounds of `gx_duckdb.py`), `outcomes.py` says what was found,
`scope.py` decides what a daily audit checks, `quality_record.py` keeps every result and
`quality_docs.py` writes the quality pages (`quality_page.py`) from that record.
"""
