"""The row rules of the register extract contract (docs/feed.md): what makes a row valid.

`row_rules.py` checks one row in Python, with the reasons data managers read;
`sql_rules.py` checks a whole round's rows in their usual form in DuckDB; `upn.py` is the
UPN check letter; `register_codes.py` reads the one list of register codes (a dbt seed).
"""
