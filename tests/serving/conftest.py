"""The serving tests' fixtures: a published LA (ingested, built by real dbt, published by
the pipeline's own steps) and a PostgreSQL database of its own, dropped afterwards."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from synthetic import GeneratorConfig, SyntheticLA, build_la
from tests.support.postgres import new_database
from tests.support.published import published_la

# Enough schools and SEN groups for small counts to be withheld, and for withheld cells to
# need complements; small enough to build in seconds.
CONFIG = GeneratorConfig(schools=5, pupils=200, school_days=10, window_days=5, closure_day=4)


@pytest.fixture(scope="session")
def serving_la() -> SyntheticLA:
    return build_la(CONFIG)


@pytest.fixture(scope="session")
def published(serving_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published folder of the serving LA (its working warehouse is its parent)."""
    root = tmp_path_factory.mktemp("serving")
    return published_la(serving_la, root, range(CONFIG.school_days)).locations.published


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    with new_database() as dsn:
        yield dsn
