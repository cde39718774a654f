"""The row rules of the register extract contract (docs/feed.md): what makes a row valid.

`checks.check_rows` checks a round's rows of one kind in DuckDB, every rule written once in
SQL (`columns.py`: the rules of one column; `kinds.py`: each kind's rules in order;
`sql_text.py`: the SQL they are written with). `upn.py` is the UPN check letter;
`register_codes.py` reads the one list of register codes (a dbt seed).
"""
