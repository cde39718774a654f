"""The DfE-style daily feed: the restricted mart dfe_daily_attendance carries true counts,
equal to school_daily_reasons and to the generator's own record, and the CSV extract is that
mart, with nothing withheld."""

import csv
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from publication.publish import PUBLISHED_DB
from serving.public_tier import write_dfe_extract
from synthetic import SyntheticLA
from tests.support.truth import dfe as truth_dfe

TOTALS = truth_dfe.TOTALS


def _rows(published: Path, query: str) -> list[dict]:
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_the_feed_is_the_sum_of_school_daily_reasons(published: Path) -> None:
    feed = _rows(published, "select * from dfe_daily_attendance")
    sums: dict[tuple, Counter] = defaultdict(Counter)
    for r in _rows(published, "select * from school_daily_reasons"):
        day = sums[(r["urn"], r["session_date"])]
        day[r["dfe_column"]] += r["sessions"]
        day[TOTALS[r["category"]]] += r["sessions"]
        day["possible_sessions"] += r["sessions"]
    by_day = {(r["urn"], r["attendance_date"]): r for r in feed}
    assert len(by_day) == len(feed)
    # Every day with a possible session is in the feed; days without one are rows of zeros.
    assert set(sums) <= set(by_day)
    columns = ["possible_sessions", *TOTALS.values(), *truth_dfe.REASON_COLUMN.values()]
    for key, row in by_day.items():
        assert {c: row[c] for c in columns} == {c: sums[key][c] for c in columns}, key


def test_the_feed_equals_the_generators_truth_and_withholds_nothing(
    published: Path, serving_la: SyntheticLA
) -> None:
    expected = truth_dfe.expected_dfe_daily_attendance(
        serving_la, serving_la.config.school_days - 1
    )
    feed = _rows(published, "select * from dfe_daily_attendance")
    assert {(r["urn"], r["attendance_date"]) for r in feed} == set(expected)
    small = 0
    for row in feed:
        want = expected[(row["urn"], row["attendance_date"])]
        assert {c: row[c] for c in want} == want
        small += sum(1 <= row[c] <= 4 for c in truth_dfe.REASON_COLUMN.values())
    # The data has the small counts that the old suppressed extract withheld.
    assert small > 0


def test_the_csv_extract_is_the_mart_with_true_counts(published: Path, tmp_path: Path) -> None:
    path = write_dfe_extract(published / PUBLISHED_DB, tmp_path / "dfe.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        extract = list(csv.DictReader(handle))
    feed = _rows(published, "select * from dfe_daily_attendance order by attendance_date, urn")
    assert len(extract) == len(feed) > 0
    assert list(extract[0])[:2] == ["attendance_date", "urn"]
    assert "suppressed" not in extract[0]
    for line, row in zip(extract, feed, strict=True):
        assert all(text != "" for text in line.values()), line["urn"]
        for column in ("possible_sessions", *TOTALS.values(), *truth_dfe.REASON_COLUMN.values()):
            assert int(line[column]) == row[column], (line["urn"], column)
