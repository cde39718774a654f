"""A generated LA taken through the pipeline's own steps, and fingerprints of what it wrote.

One builder for every test that needs a built or published authority: the same functions
the DAG's tasks call (pipeline/daily.py), on a run outside Airflow.
"""

import hashlib
from pathlib import Path

import duckdb

from pipeline import daily
from pipeline.run_info import RunInfo
from publication.publish import publish
from publication.record import PublicationRecord, PublishingRun
from synthetic import SyntheticLA
from tests.support.extracts import deliver


def built_la(
    la: SyntheticLA, root: Path, days: range, *, run_id: str = "fixture", audit: bool = False
) -> RunInfo:
    """`days` of `la`'s extracts delivered to `root/landing`, ingested and built (and audited)
    into `root/warehouse`; the run that did it."""
    run = RunInfo.for_day(
        None, landing=str(root / "landing"), warehouse=str(root / "warehouse"), run_id=run_id
    )
    deliver(la, run.locations.landing, days)
    daily.ingest(run)
    daily.build(run)
    if audit:
        daily.audit(run)
    return run


def published_la(
    la: SyntheticLA, root: Path, days: range, *, run_id: str = "fixture", audit: bool = False
) -> RunInfo:
    """As `built_la`, then published to `root/warehouse/published`."""
    run = built_la(la, root, days, run_id=run_id, audit=audit)
    daily.publish(run, None)
    return run


def publish_again(published: Path, warehouse: Path, run: PublishingRun) -> PublicationRecord:
    """The marts behind the publication `published` (a `published_la` folder) published again,
    by the run `run`, into `warehouse`'s published folder: a publication of a test's own, with
    the register day and run it needs, in a second."""
    source = published.parent / "warehouse.duckdb"
    return publish(source, warehouse / "published", run).record


def file_fingerprints(folder: Path) -> dict[str, str]:
    """The sha256 of every file under `folder`: equal when nothing in it changed."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def mart_fingerprints(database: Path, marts: tuple[str, ...]) -> dict[str, str]:
    """Each mart's row count and an order-independent digest of its rows."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            mart: "{}:{}".format(
                *con.execute(
                    f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from main.{mart} t"
                ).fetchone()
            )
            for mart in marts
        }
