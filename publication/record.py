"""The one record of a publication: what was published, as of when, by which run.

Written once per publication, in three places that hold the same facts: `publication.json`
beside the published files (what a reader or a later run reads), the `publication` table of
`published.duckdb` (the same facts beside the marts), and the `attendance_publication` asset
event's extra (what a downstream DAG run is given). Each run reads it once and passes it on.
"""

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import duckdb

from warehouse.files import write_text_atomically

RECORD_FILE = "publication.json"


@dataclass(frozen=True)
class PublishingRun:
    """The DAG run that publishes, as far as readers need to trace a publication back."""

    dag_id: str | None = None
    run_id: str | None = None
    # The run's register day (YYYY-MM-DD), and the build's transaction-time cut-off (None:
    # every event known).
    register_day: str | None = None
    cutoff: str | None = None
    # The working warehouse folder the publication came from.
    warehouse: str | None = None
    # Known schools whose extract for the register day did not arrive.
    missing_schools: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublicationRecord:
    version: str
    published_at: str
    # The latest transaction time of the events the marts reflect.
    as_of: str | None
    # The ingestion watermark of the session facts behind the marts: the next daily audit
    # checks only events stored after it (expectations/scope.py).
    loaded_through: str | None
    rows: dict[str, int]
    # An order-independent digest of each mart's rows: equal marts, equal digests.
    fingerprints: dict[str, str]
    # Of every file ingested so far: rows quarantined and files rejected whole.
    rows_quarantined: int
    files_rejected: int
    database: str
    parquet: dict[str, str]
    run: PublishingRun = field(default_factory=PublishingRun)

    # The names of the run's fields, flattened into the record's dictionary.
    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        run = record.pop("run")
        run["missing_schools"] = list(run["missing_schools"])
        return {**record, **run}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "PublicationRecord":
        """The record from `as_dict`'s form; fields an older record lacks take defaults."""
        run_fields = {f.name for f in fields(PublishingRun)}
        run = PublishingRun(
            **{
                k: tuple(v or ()) if k == "missing_schools" else v
                for k, v in values.items()
                if k in run_fields
            }
        )
        return cls(
            version=values["version"],
            published_at=values["published_at"],
            as_of=values.get("as_of"),
            loaded_through=values.get("loaded_through"),
            rows=dict(values.get("rows") or {}),
            fingerprints=dict(values.get("fingerprints") or {}),
            rows_quarantined=int(values.get("rows_quarantined") or 0),
            files_rejected=int(values.get("files_rejected") or 0),
            database=values.get("database") or "published.duckdb",
            parquet=dict(values.get("parquet") or {}),
            run=run,
        )


def read_record(folder: Path) -> PublicationRecord | None:
    """The record of the last complete publication in `folder`, or None before the first."""
    path = folder / RECORD_FILE
    if not path.is_file():
        return None
    return PublicationRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))


def published_parquet(folder: Path, mart: str) -> Path | None:
    """The Parquet file of `mart` in the last complete publication in `folder`, or None
    (no publication yet, or one without the mart, or its file gone)."""
    record = read_record(folder)
    if record is None or mart not in record.parquet:
        return None
    path = folder / record.parquet[mart]
    return path if path.is_file() else None


def write_record_file(folder: Path, record: PublicationRecord) -> None:
    """`publication.json`, replaced in one step (written beside it, flushed, renamed)."""
    write_text_atomically(folder / RECORD_FILE, json.dumps(record.as_dict(), indent=2))


def write_record_table(con: duckdb.DuckDBPyConnection, record: PublicationRecord) -> None:
    """The record's facts as the one row of the `publication` table beside the marts."""
    con.execute(
        "create table main.publication as select ? as version, "
        "cast(? as timestamptz) as published_at, cast(? as timestamptz) as as_of, "
        "cast(? as timestamptz) as cutoff, cast(? as timestamptz) as loaded_through, "
        "cast(? as date) as register_day, ? as run_id, "
        "cast(? as integer) as rows_quarantined, cast(? as integer) as files_rejected",
        [
            record.version,
            record.published_at,
            record.as_of,
            record.run.cutoff,
            record.loaded_through,
            record.run.register_day,
            record.run.run_id,
            record.rows_quarantined,
            record.files_rejected,
        ],
    )


def fingerprints(con: duckdb.DuckDBPyConnection, marts: tuple[str, ...]) -> dict[str, str]:
    """An order-independent digest of each mart's rows in `con`'s main schema."""
    return {
        mart: "{}:{}".format(
            *con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from main.{mart} t"
            ).fetchone()
        )
        for mart in marts
    }
