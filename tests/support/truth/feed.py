"""The school calendar, the feed alerts and `school_feed_status`, computed straight from the
generator's record and a delivery plan (which school sent which day's extract), in plain
Python, from the rules of docs/usage.md ("School calendar") and docs/interface.md; never
from the project's SQL."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from synthetic import SyntheticLA
from synthetic.extracts import BAD_MARK_ROWS, BAD_PUPIL_ROWS, BAD_ROW_DAYS
from tests.support.truth import registers as truth

LONDON = ZoneInfo("Europe/London")
# Each extract with bad rows carries 3 pupils rows and 7 marks rows that are quarantined.
BAD_ROWS_PER_EXTRACT = BAD_PUPIL_ROWS + BAD_MARK_ROWS
TAKEN_NOT_OPEN = {"", "#"}


@dataclass(frozen=True)
class TermRow:
    area: str
    kind: str
    first_day: date
    last_day: date


@dataclass
class Delivery:
    """Which school days' extracts (indexes) each school sent; every one was ingested."""

    sent: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def everyone(cls, la: SyntheticLA, last_day_index: int) -> "Delivery":
        return cls({s.urn: set(range(last_day_index + 1)) for s in la.schools})


def _register_days(la: SyntheticLA, delivery: Delivery) -> tuple[dict, dict]:
    """Each school's marked days (any mark stored) and open days (a mark other than `#` or
    blank in some extract it sent)."""
    marked: dict[str, set[date]] = defaultdict(set)
    opened: dict[str, set[date]] = defaultdict(set)
    index_of = {day: i for i, day in enumerate(la.days)}
    for (urn, _, day, _), mark in la.marks.items():
        for sent in delivery.sent.get(urn, ()):
            if index_of[day] in la.window(sent):
                marked[urn].add(day)
                if mark.as_seen_on(sent)[0] not in TAKEN_NOT_OPEN:
                    opened[urn].add(day)
    return marked, opened


class Calendar:
    """The days each school is expected open, by the rule of docs/usage.md."""

    def __init__(self, la: SyntheticLA, delivery: Delivery, terms: tuple[TermRow, ...] = ()):
        self.la, self.delivery, self.terms = la, delivery, terms
        self.marked, self.opened = _register_days(la, delivery)
        self.la_of = {s.urn: s.la_code for s in la.schools}
        self.la_open: dict[str, set[date]] = defaultdict(set)
        for urn, days in self.opened.items():
            self.la_open[self.la_of[urn]] |= days

    def _rows(self, kind: str, area: str) -> list[TermRow]:
        return [r for r in self.terms if r.kind == kind and r.area == area]

    def is_open(self, urn: str, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        own = self.opened[urn]
        if day in self.marked[urn] and day not in own:
            return False
        if own and min(own) <= day <= max(own) and day not in own:
            return False
        areas = (urn, self.la_of[urn])
        if any(r.first_day <= day <= r.last_day for a in areas for r in self._rows("closure", a)):
            return False
        terms = self._rows("term", urn) or self._rows("term", self.la_of[urn])
        if terms:
            return any(r.first_day <= day <= r.last_day for r in terms)
        la_days = self.la_open[self.la_of[urn]]
        return not (la_days and min(la_days) <= day <= max(la_days) and day not in la_days)

    def age(self, urn: str, last_extract: date | None, register_day: date) -> int:
        """Expected days of the school after its latest extract, up to the register day."""
        first = min(self.marked[urn] | {self.first_seen(urn)})
        day, count = max(first, last_extract + timedelta(days=1)) if last_extract else first, 0
        while day <= register_day:
            count += self.is_open(urn, day)
            day += timedelta(days=1)
        return count

    def first_seen(self, urn: str) -> date:
        return self.la.days[min(self.delivery.sent[urn])]

    def last_extract(self, urn: str, register_day: date) -> date | None:
        days = [self.la.days[i] for i in self.delivery.sent[urn] if self.la.days[i] <= register_day]
        return max(days, default=None)


def expected_alerts(
    la: SyntheticLA,
    delivery: Delivery,
    register_day: date,
    terms: tuple[TermRow, ...] = (),
    stale_after: int = 3,
) -> dict[str, tuple[str, int]]:
    """The alert of each school on the run for `register_day`: URN -> (kind, age in school
    days), kind `stale_feed` or `missing_extract`; schools with no alert are left out."""
    calendar = Calendar(la, delivery, terms)
    alerts = {}
    for urn, sent in delivery.sent.items():
        if not sent or calendar.first_seen(urn) > register_day:
            continue
        last = calendar.last_extract(urn, register_day)
        age = calendar.age(urn, last, register_day)
        if age > stale_after:
            alerts[urn] = ("stale_feed", age)
        elif calendar.is_open(urn, register_day) and last != register_day:
            alerts[urn] = ("missing_extract", age)
    return alerts


def expected_school_feed_status(
    la: SyntheticLA,
    last_day_index: int,
    delivery: Delivery | None = None,
    terms: tuple[TermRow, ...] = (),
    stale_after: int = 3,
) -> dict[tuple[str], dict]:
    """One row per school that sent anything, as of the latest extract delivered."""
    delivery = delivery or Delivery.everyone(la, last_day_index)
    calendar = Calendar(la, delivery, terms)
    as_of = truth.expected_as_of(la, max(i for s in delivery.sent.values() for i in s))
    as_of_day = as_of.astimezone(LONDON).date()
    rows = {}
    for index, school in enumerate(la.schools):
        sent = delivery.sent.get(school.urn, set())
        if not sent:
            continue
        latest = max(sent)
        behind = calendar.age(school.urn, la.days[latest], as_of_day)
        if behind > stale_after:
            status = "stale"
        elif behind >= 1:
            status = "missing"
        else:
            status = "ok"
        rows[(school.urn,)] = {
            "la_code": school.la_code,
            "school_name": school.name,
            "latest_extract_at": la.extract_time(latest),
            "latest_session_date": max(calendar.opened[school.urn]),
            "files_rejected": 0,
            "rows_quarantined": BAD_ROWS_PER_EXTRACT
            * sum(1 for si, di in BAD_ROW_DAYS if si == index and di in sent),
            "school_days_behind": behind,
            "status": status,
        }
    return rows
