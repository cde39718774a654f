"""Where a run reads extracts from and writes the warehouse to.

Chosen by the caller, else by ATTENDANCE_LANDING / ATTENDANCE_WAREHOUSE, else folders under
`var/` (ignored by git) of the checkout, or of the current folder when the package is
installed rather than run from a checkout.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from warehouse.project import PROJECT_ROOT

LANDING_ENV = "ATTENDANCE_LANDING"
WAREHOUSE_ENV = "ATTENDANCE_WAREHOUSE"


@dataclass(frozen=True)
class Locations:
    landing: Path
    warehouse: Path

    @property
    def warehouse_db(self) -> Path:
        """The working warehouse: event store, ingest audit, dbt models (one writer at a time)."""
        return self.warehouse / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        """What readers use: replaced whole by each passing publication."""
        return self.warehouse / "published"

    @property
    def work(self) -> Path:
        """dbt's and the audit's working files."""
        return self.warehouse / "work"


def default_var_folder() -> Path:
    checkout = (PROJECT_ROOT / "pyproject.toml").is_file()
    return (PROJECT_ROOT if checkout else Path.cwd()) / "var"


def resolve_locations(
    landing: str | Path | None = None, warehouse: str | Path | None = None
) -> Locations:
    landing = landing or os.environ.get(LANDING_ENV) or default_var_folder() / "landing"
    warehouse = warehouse or os.environ.get(WAREHOUSE_ENV) or default_var_folder() / "warehouse"
    return Locations(Path(landing).expanduser().resolve(), Path(warehouse).expanduser().resolve())
