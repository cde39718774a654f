"""What every stage shares about the DuckDB warehouse: where it is, how to open it, who may.

The bottom layer of the project's packages: it imports none of them.
"""
