"""Where a run reads extracts from and writes the warehouse to.

Chosen by the caller, else by ATTENDANCE_LANDING / ATTENDANCE_WAREHOUSE, else folders under
the project's `var/` (ignored by git).
"""

import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.paths import PROJECT_ROOT


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


def resolve_locations(
    landing: str | Path | None = None, warehouse: str | Path | None = None
) -> Locations:
    landing = landing or os.environ.get("ATTENDANCE_LANDING") or PROJECT_ROOT / "var" / "landing"
    warehouse = (
        warehouse or os.environ.get("ATTENDANCE_WAREHOUSE") or PROJECT_ROOT / "var" / "warehouse"
    )
    return Locations(Path(landing).expanduser().resolve(), Path(warehouse).expanduser().resolve())
