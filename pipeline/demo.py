"""The demo: a synthetic LA delivered day by day, a real DAG run for each school day.

Most schools drop their extracts in the landing folder; a quarter deliver through the
reference MIS feed on 127.0.0.1, which the DAG's pull task reads. The only production
module that may use the synthetic generator and the reference feed (an import contract).
"""

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingestion.http_pull import SOURCE_ENV, TOKEN_ENV, URL_ENV
from pipeline.console import (
    downstream_or_exit,
    finish,
    load_dags_quietly,
    print_outputs,
    print_summary,
    run_day_or_exit,
)
from pipeline.dag_runs import DAG_ID
from synthetic import GeneratorConfig, build_la, write_extracts_for_day

try:
    from synthetic.mis_feed import FeedServer
except ImportError:  # an installed wheel: the reference feed is a test double, not shipped
    FeedServer = None
from warehouse.locations import resolve_locations
from warehouse.permissions import make_folders, with_pipeline_umask


# The synthetic pupils' files too are written as a real authority's would be.
@with_pipeline_umask
def run_demo(out: Path, **generator: int) -> int:
    """Generate an LA into `out` and run the daily DAG on it day by day, then downstream.
    `generator`: the LA's size (`generator_config`)."""
    config = generator_config(**generator)
    out = out.resolve()
    locations = resolve_locations(out / "landing", out / "warehouse")
    for folder in (locations.landing, locations.warehouse):
        shutil.rmtree(folder, ignore_errors=True)
    make_folders(out)
    la = build_la(config)
    print(
        f"Synthetic LA: {len(la.schools)} schools, {len(la.enrolments)} enrolments, "
        f"{len(la.days)} school days from {la.days[0]} (extracts of {config.window_days} days)",
        flush=True,
    )
    dags, terminal = load_dags_quietly(out / "airflow-demo.log")
    dag = dags[DAG_ID]
    # A quarter of the schools deliver through their MIS's HTTP feed, the rest drop files.
    feed_urns = {school.urn for school in la.schools[3::4]} if FeedServer else set()
    file_urns = {school.urn for school in la.schools} - feed_urns
    with _demo_feed(out / "feed") as feed:
        if feed is None:
            print(
                "The reference MIS feed is not installed: every school drops files.",
                file=terminal.out,
            )
        else:
            print(f"MIS feed for {len(feed_urns)} schools at {feed.url}", file=terminal.out)
        started = time.monotonic()
        for index, day in enumerate(la.days):
            # The day's extracts arrive, then that day's run pulls and ingests them.
            write_extracts_for_day(la, index, locations.landing, urns=file_urns)
            if feed is not None:
                write_extracts_for_day(la, index, feed.root, urns=feed_urns)
            run_day_or_exit(dag, day, locations.landing, locations.warehouse, terminal)
            print(
                f"[{index + 1:>2}/{len(la.days)}] {day}: DAG run succeeded, marts published "
                f"({time.monotonic() - started:.0f} s so far)",
                file=terminal.out,
            )
    # The exports and the report of the last day's publication (a scheduler would run them
    # after every publication: `make airflow`).
    downstream_or_exit(dags, locations.warehouse, terminal)
    print_summary(locations.warehouse, terminal.out)
    print_outputs(locations.warehouse, la.days[-1], None, terminal.out)
    return finish(terminal)


@with_pipeline_umask
def generate(landing: Path, **generator: int) -> int:
    """`attendance generate`: every day's extracts of a synthetic LA, written to `landing`."""
    la = build_la(generator_config(**generator))
    for index in range(len(la.days)):
        write_extracts_for_day(la, index, landing)
    print(f"Wrote {len(la.days)} days of extracts for {len(la.schools)} schools to {landing}")
    return 0


def generator_config(schools: int, pupils: int, days: int, window: int, seed: int):
    """The synthetic LA of the given size: `days` school days, extracts of `window` days."""
    return GeneratorConfig(
        schools=schools, pupils=pupils, school_days=days, window_days=window, seed=seed
    )


@contextmanager
def _demo_feed(root: Path) -> Iterator["FeedServer | None"]:
    """The reference MIS feed on 127.0.0.1, with a one-off token, for the DAG's pull task
    (None where it is not installed)."""
    if FeedServer is None:
        yield None
        return
    shutil.rmtree(root, ignore_errors=True)
    make_folders(root)
    token = secrets.token_urlsafe(24)
    with FeedServer(root, token) as feed:
        os.environ.update({URL_ENV: feed.url, TOKEN_ENV: token, SOURCE_ENV: "demo-mis"})
        try:
            yield feed
        finally:
            for name in (URL_ENV, TOKEN_ENV, SOURCE_ENV):
                os.environ.pop(name, None)
