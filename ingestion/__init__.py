"""Ingestion: the landing folder's extracts into the warehouse's append-only event store.

`contract.py` declares each file kind's columns, `landing.py` finds the files and reads the
landing layout, `intake.py` decides the whole-file matters (links, limits, encoding, header)
within `limits.py`, `round_reader.py` reads a round's files with DuckDB, `rules/` checks the
rows in SQL, `rounds.py` and `ingest.py` land them in the event store (`event_store.py`) with their
audit and quarantine (`records.py`); `http_pull/` fetches extracts from a school MIS's feed
into the landing folder; `missing_extracts.py` says whose extract did not arrive on a day the
school is expected open (`school_calendar/`), and whose feed is stale.
"""
