"""Check a peer's result equal to the pipeline's published mart, row for row: a peer's time
counts only for the same figures."""

from pathlib import Path

import duckdb

from bench.peers import PUPIL_COLUMNS, SEN_COLUMNS

MART_COLUMNS = {"pupil_attendance": PUPIL_COLUMNS, "attendance_by_sen": SEN_COLUMNS}


class PeerDisagrees(Exception):
    """A peer's figures differ from the pipeline's: its time does not count."""


def check_equal(published_db: Path, peer_dir: Path, peer: str) -> dict[str, int]:
    """Rows of each mart; raises PeerDisagrees naming the mart and a differing row."""
    rows = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{published_db}' as published (read_only)")
        for mart, columns in MART_COLUMNS.items():
            listed = ", ".join(columns)
            ours = f"select {listed} from published.main.{mart}"
            theirs = f"select {listed} from read_parquet('{peer_dir / mart}.parquet')"
            for left, right, side in ((ours, theirs, "pipeline only"), (theirs, ours, peer)):
                extra = con.execute(f"{left} except all {right} limit 1").fetchall()
                if extra:
                    raise PeerDisagrees(f"{peer}: {mart} differs, e.g. ({side}) {extra[0]}")
            rows[mart] = con.execute(f"select count(*) from ({ours})").fetchone()[0]
    return rows
