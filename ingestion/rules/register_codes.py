"""Register codes and their categories.

The dbt seed `register_codes.csv` is the one list of codes; ingestion reads it too, so that a
code accepted at the door is always one the models know how to count.
"""

import csv
from datetime import date
from functools import cache

from warehouse.project import DBT_PROJECT_DIR

REGISTER_CODES_SEED = DBT_PROJECT_DIR / "seeds" / "register_codes.csv"

# SI 2024/208 replaced the code set for sessions from this date on.
CODE_SET_2024_FROM = date(2024, 8, 19)

POSSIBLE_CATEGORIES = frozenset({"present", "aea", "authorised", "unauthorised"})


@cache
def code_categories() -> dict[tuple[str, str], str]:
    """(code_set, code) -> category, read from the dbt seed."""
    with REGISTER_CODES_SEED.open(encoding="utf-8", newline="") as seed:
        return {(row["code_set"], row["code"]): row["category"] for row in csv.DictReader(seed)}


def code_set_for(session_date: date) -> str:
    return "2024" if session_date >= CODE_SET_2024_FROM else "pre2024"


def category_of(code: str, session_date: date) -> str | None:
    """The code's category under the code set in force on the date; None if it is not a code."""
    return code_categories().get((code_set_for(session_date), code))
