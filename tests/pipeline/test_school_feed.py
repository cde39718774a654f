"""The school calendar, the missing and stale feed alerts and `school_feed_status`, on a
generated LA with a half-term holiday and a school that stops sending, with and without the
LA's term dates file; every expectation computed from the generator's record
(tests/support/truth/feed.py)."""

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.school_calendar.term_dates import TERM_DATES_ENV, TermDatesError, read_term_dates
from pipeline import daily
from pipeline.run_info import RunInfo
from synthetic import GeneratorConfig, SyntheticLA, build_la, write_extracts_for_day
from tests.support.truth.feed import (
    Delivery,
    TermRow,
    expected_alerts,
    expected_school_feed_status,
)
from warehouse.alerts import MISSING_EXTRACT, STALE_FEED, alerts_for_run, read_alerts

HALF_TERM = (date(2025, 10, 20), date(2025, 10, 24))
# Five school days, the half-term week, five school days (13 October to 31 October 2025).
CONFIG = GeneratorConfig(
    schools=4,
    pupils=60,
    start=date(2025, 10, 13),
    school_days=10,
    window_days=5,
    closure_day=2,
    holidays=(HALF_TERM,),
    seed=2031,
)
# The LA's own INSET day, a day the schools' registers show open: only the file knows it.
INSET_DAY = date(2025, 10, 30)
LAST_SENT = 3  # the stopping school's last extract: Thursday 16 October


@dataclass(frozen=True)
class Scenario:
    la: SyntheticLA
    delivery: Delivery
    stopped: str
    terms: tuple[TermRow, ...]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    la = build_la(CONFIG)
    stopped = la.schools[3].urn
    sent = {s.urn: set(range(len(la.days))) for s in la.schools}
    sent[stopped] = set(range(LAST_SENT + 1))
    la_code = la.schools[0].la_code
    # The terms around the generator's holidays, and the LA's INSET day.
    terms = (
        TermRow(la_code, "term", la.days[0], HALF_TERM[0] - timedelta(days=3)),
        TermRow(la_code, "term", HALF_TERM[1] + timedelta(days=3), date(2025, 12, 19)),
        TermRow(la_code, "closure", INSET_DAY, INSET_DAY),
    )
    assert terms[0].last_day == la.days[4] and terms[1].first_day == la.days[5]
    return Scenario(la, Delivery(sent), stopped, terms)


def _weekdays(la: SyntheticLA) -> list[date]:
    days = [la.days[0] + timedelta(days=n) for n in range((la.days[-1] - la.days[0]).days + 1)]
    return [d for d in days if d.weekday() < 5]


def _deliver(scenario: Scenario, landing: Path, register_day: date) -> None:
    la = scenario.la
    if register_day in la.days:
        index = la.days.index(register_day)
        senders = [urn for urn, sent in scenario.delivery.sent.items() if index in sent]
        write_extracts_for_day(la, index, landing, urns=senders)


def _alerts_by_school(warehouse: Path, run_id: str) -> dict[str, tuple[str, int | None]]:
    alerts = [a for a in alerts_for_run(warehouse, run_id) if a.kind != "task_failed"]
    by_school = {a.school: (a.kind, a.school_days_old) for a in alerts}
    assert len(by_school) == len(alerts), "one alert per school per run"
    return by_school


def _as_compared(expected: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int | None]]:
    # Only a stale feed's alert carries its age.
    return {
        urn: (kind, age if kind == STALE_FEED else None) for urn, (kind, age) in expected.items()
    }


def _write_terms(path: Path, terms: tuple[TermRow, ...]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["area", "kind", "first_day", "last_day"])
        for row in terms:
            writer.writerow([row.area, row.kind, row.first_day, row.last_day])
    return path


def _no_pupil_data(warehouse: Path, la: SyntheticLA) -> None:
    text = (warehouse / "alerts.jsonl").read_text(encoding="utf-8")
    assert not [s for s in la.forbidden_strings() | {e.upn for e in la.enrolments} if s in text]


def test_learnt_calendar_alerts_only_days_the_registers_show_open(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every extract landed at once (a folder of last term's files), then each weekday's
    check: the registers reveal the half-term (no school of the LA open, schools open on
    both sides), so no school is missing in it; the stopped school goes stale."""
    monkeypatch.delenv(TERM_DATES_ENV, raising=False)
    la = scenario.la
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    for day in _weekdays(la):
        _deliver(scenario, landing, day)
    daily.ingest(RunInfo.for_day(None, landing=str(landing), warehouse=str(warehouse)))
    kinds = set()
    for day in _weekdays(la):
        run = RunInfo.for_day(
            day, landing=str(landing), warehouse=str(warehouse), run_id=f"check-{day}"
        )
        daily.check_extracts(run)
        want = _as_compared(expected_alerts(la, scenario.delivery, day))
        assert _alerts_by_school(warehouse, run.run_id) == want, day
        if HALF_TERM[0] <= day <= HALF_TERM[1]:
            assert MISSING_EXTRACT not in {kind for kind, _ in want.values()}
        kinds |= {kind for kind, _ in want.values()}
    assert kinds == {MISSING_EXTRACT, STALE_FEED}, "both kinds occur"
    stale = [a for a in read_alerts(warehouse) if a.kind == STALE_FEED]
    assert {a.school for a in stale} == {scenario.stopped}
    _no_pupil_data(warehouse, la)


def test_term_dates_alert_in_real_time_and_the_mart_agrees(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day by day as the extracts arrive, with the LA's term dates: no school is missing in
    the half-term (the registers cannot reveal it yet) nor on the INSET day; the stopped
    school is missing, then stale with its age in school days. The published school_feed_status
    equals the truth, and passes the audit."""
    la = scenario.la
    monkeypatch.setenv(TERM_DATES_ENV, str(_write_terms(tmp_path / "terms.csv", scenario.terms)))
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    stale_ages = []
    for day in _weekdays(la):
        _deliver(scenario, landing, day)
        run = RunInfo.for_day(
            day, landing=str(landing), warehouse=str(warehouse), run_id=f"run-{day}"
        )
        daily.ingest(run)
        record = daily.check_extracts(run)
        so_far = Delivery(
            {u: {i for i in s if la.days[i] <= day} for u, s in scenario.delivery.sent.items()}
        )
        want = _as_compared(expected_alerts(la, so_far, day, scenario.terms))
        assert _alerts_by_school(warehouse, run.run_id) == want, day
        if HALF_TERM[0] <= day <= HALF_TERM[1] or day == INSET_DAY:
            # A stale feed is still alerted (once a run); no school is missing.
            assert record["missing_schools"] == []
            assert {kind for kind, _ in want.values()} <= {STALE_FEED}
        stale_ages += [age for kind, age in want.values() if kind == STALE_FEED]
    assert stale_ages and min(stale_ages) == 4, "stale once more than 3 school days old"
    _no_pupil_data(warehouse, la)

    daily.build(run)
    daily.audit(run)
    published = daily.publish(run, record)
    assert "school_feed_status" in published["rows"]
    got = _published_feed_status(warehouse)
    want = expected_school_feed_status(la, len(la.days) - 1, scenario.delivery, scenario.terms)
    _assert_feed_status(got, want)
    assert got[scenario.stopped]["status"] == "stale"
    assert {row["status"] for urn, row in got.items() if urn != scenario.stopped} == {"ok"}
    assert sum(row["rows_quarantined"] for row in got.values()) > 0


def test_a_term_dates_file_with_a_wrong_row_is_refused_with_file_line_and_reason(
    scenario: Scenario, tmp_path: Path
) -> None:
    good = _write_terms(tmp_path / "terms.csv", scenario.terms)
    assert [(r.area, r.kind, r.first_day, r.last_day) for r in read_term_dates(good)] == [
        (r.area, r.kind, r.first_day, r.last_day) for r in scenario.terms
    ]
    bad = tmp_path / "bad.csv"
    lines = good.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines, "881,term,2025-12-19,2025-09-01"]) + "\n", encoding="utf-8")
    with pytest.raises(TermDatesError) as refused:
        read_term_dates(bad)
    assert str(refused.value) == (
        f"{bad}, line {len(lines) + 1}: last_day 2025-09-01 is before first_day 2025-12-19"
    )


def _published_feed_status(warehouse: Path) -> dict[str, dict]:
    with duckdb.connect(str(warehouse / "published" / "published.duckdb"), read_only=True) as con:
        rel = con.sql("select * from school_feed_status")
        return {row[0]: dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()}


def _assert_feed_status(got: dict[str, dict], want: dict[tuple[str], dict]) -> None:
    assert set(got) == {urn for (urn,) in want}
    for (urn,), want_row in want.items():
        assert {k: got[urn][k] for k in want_row} == want_row, urn


def test_a_late_wave_of_old_extracts_brings_a_missing_school_back_to_ok(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Holdout style: the first week with one school's last three extracts held back,
    published; then its held extracts land, newest first, and the same day is published
    again. Both publications equal the truth: `missing` 3 school days behind, then `ok`."""
    monkeypatch.delenv(TERM_DATES_ENV, raising=False)
    la = scenario.la
    late = la.schools[1].urn
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    first_week = range(5)
    held = {2, 3, 4}
    sent = {s.urn: set(first_week) for s in la.schools}
    sent[late] = set(first_week) - held
    for index in first_week:
        senders = [urn for urn, days in sent.items() if index in days]
        write_extracts_for_day(la, index, landing, urns=senders)
    run = RunInfo.for_day(la.days[4], landing=str(landing), warehouse=str(warehouse))
    for publication, delivery in (("first", Delivery(sent)), ("late wave", None)):
        if delivery is None:
            for index in sorted(held, reverse=True):
                write_extracts_for_day(la, index, landing, urns=[late])
                daily.ingest(run)
            delivery = Delivery({urn: set(first_week) for urn in sent})
        else:
            daily.ingest(run)
        record = daily.check_extracts(run)
        daily.build(run)
        daily.publish(run, record)
        got = _published_feed_status(warehouse)
        _assert_feed_status(got, expected_school_feed_status(la, 4, delivery))
        statuses = {urn: row["status"] for urn, row in got.items()}
        if publication == "first":
            assert statuses.pop(late) == "missing" and got[late]["school_days_behind"] == 3
        assert set(statuses.values()) == {"ok"}, publication
