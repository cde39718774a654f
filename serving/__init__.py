"""Everything that reads a publication outward: PostgreSQL tiers, suppression, pseudonyms,
the DfE-style extract, CSV exports, the run report, HTML reports and the summary.

It reads only what `publication/` wrote (published.duckdb and the publication's record),
never the working warehouse.
"""
