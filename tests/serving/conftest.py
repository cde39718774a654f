"""The serving tests' fixtures: a PostgreSQL database of their own, dropped afterwards (the
published LA they serve, `published`, is tests/conftest.py's)."""

from collections.abc import Iterator

import pytest

from tests.support.postgres import new_database


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    with new_database() as dsn:
        yield dsn
