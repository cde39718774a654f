"""The row rules (rules/checks.check_rows) on rows built from generated extracts: each
spelling a real MIS uses gets its expected outcome, the rules of contract 1.1 their reasons,
and the generator's valid rows pass with the values it wrote."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from ingestion.contract import KINDS, MARKS, PUPILS, SCHOOLS, FileKind, kind_of
from ingestion.rules import kinds as kind_rules
from ingestion.rules.checks import DateLimits
from tests.support.extracts import TINY, deliver
from tests.support.source import SourceRow, checked, read_rows

# After the tiny LA's last extract (2025-09-08T16:05:00+01:00): nothing is in the future.
NOW = datetime(2025, 9, 9, 12, tzinfo=UTC)
TAKEN = datetime(2025, 9, 8, 15, 5, tzinfo=UTC)
UTC_TIME = datetime(2025, 9, 2, 8, 10, tzinfo=UTC)


class Stored:
    """The row is accepted and the event column holds the value."""

    def __init__(self, value: object, column: str | None = None) -> None:
        self.value, self.column = value, column


def bad(fragment: str) -> str:
    """The row is quarantined with a reason holding the fragment."""
    return fragment


# Spellings a real MIS uses that the contract accepts or refuses, each substituted into one
# generated row that is otherwise valid: its outcome. The marks row is of 2025-09-04 AM, in
# the extract of 2025-09-08; the pupils row has provision N, no need, no leaving date.
VARIANTS: dict[str, list[tuple[str, object]]] = {
    "session": [
        ("am", Stored("AM")),
        ("Pm", Stored("PM")),
        (" AM", Stored("AM")),
        ("AM ", Stored("AM")),
        ("\u00a0AM\t", Stored("AM")),
        ("XM", bad("session 'XM' is not AM or PM")),
        ("", bad("session '' is not AM or PM")),
        ("it's", bad("session 'it''s' is not AM or PM")),
    ],
    "code": [
        ("i", Stored("I")),
        (" I", Stored("I")),
        ("n", Stored("N")),
        ("N", Stored("N")),
        ("ZZ", bad("code 'ZZ' is not a register code of the 2024 set for 2025-09-04")),
        ("H", bad("code 'H' is not a register code of the 2024 set")),
        ("", Stored(None)),
    ],
    "minutes_late": [
        ("5", Stored(5)),
        ("+5", Stored(5)),
        (" 7", Stored(7)),
        ("0", Stored(0)),
        ("5.0", bad("minutes_late '5.0' is not a whole number")),
        ("x", bad("minutes_late 'x' is not a whole number")),
        ("-3", bad("minutes_late '-3' is out of range: minutes late lie between 0 and 1440")),
        ("1440", Stored(1440)),
        ("1441", bad("minutes_late '1441' is out of range")),
        ("123456789", bad("minutes_late '123456789' is out of range")),
        ("12345678901", bad("minutes_late '12345678901' is out of range")),
    ],
    "last_modified": [
        ("2025-09-02T09:10:00Z", Stored(UTC_TIME + timedelta(hours=1), "transaction_time")),
        (
            "2025-09-02T09:10:00.5+01:00",
            Stored(UTC_TIME + timedelta(seconds=0.5), "transaction_time"),
        ),
        ("2025-09-02 09:10:00+01:00", Stored(UTC_TIME, "transaction_time")),
        ("2025-09-02T09:10+0100", Stored(UTC_TIME, "transaction_time")),
        ("2025-09-02T09:10:00+01", Stored(UTC_TIME, "transaction_time")),
        ("2025-09-02T09:10:00", bad("'2025-09-02T09:10:00' has no UTC offset (add e.g.")),
        ("2025-09-02T24:10:00+01:00", bad("is not an ISO 8601 timestamp")),
        ("2025-02-30T09:10:00+01:00", bad("is not an ISO 8601 timestamp")),
        ("2025-09-02", bad("last_modified '2025-09-02' is not an ISO 8601 timestamp")),
        ("", Stored(TAKEN, "transaction_time")),
    ],
    "extracted_at": [
        ("2025-09-05T15:05:00-05:00", Stored(datetime(2025, 9, 5, 20, 5, tzinfo=UTC))),
        ("2025-09-05T15:05:00+14:00", Stored(datetime(2025, 9, 5, 1, 5, tzinfo=UTC))),
        ("yesterday", bad("extracted_at 'yesterday' is not an ISO 8601 timestamp")),
        ("", bad("extracted_at is missing")),
    ],
    "session_date": [
        ("2025-09-06", bad("session_date 2025-09-06 is a Saturday, not a school day")),
        ("2025-9-02", bad("session_date '2025-9-02' is not a date in the form YYYY-MM-DD")),
        ("0000-01-01", bad("session_date '0000-01-01' is not a date")),
        ("2025-02-29", bad("session_date '2025-02-29' is not a date")),
        (" 2025-09-02", Stored(date(2025, 9, 2))),
    ],
    "upn": [
        ("a123", bad("UPN 'A123' is not 13 characters of the form letter, 11 digits")),
        ("lower", bad("UPN 'LOWER' is not 13 characters")),
        ("I881100019000", bad("UPN 'I881100019000' fails its check letter: expected")),
        ("A88110001900I", bad("UPN 'A88110001900I' ends in 'I', which is not used in UPNs")),
    ],
    "urn": [
        ("12345", bad("urn '12345' is not a 6-digit URN")),
        ("1234567", bad("urn '1234567' is not a 6-digit URN")),
        ("10000a", bad("urn '10000a' is not a 6-digit URN")),
        ("", bad("urn is missing")),
    ],
    "sen_provision": [
        ("n", Stored("N")),
        ("k", bad("sen_primary_need is missing, but is required for provision K")),
        ("E", bad("sen_primary_need is missing, but is required for provision E")),
        ("S", bad("sen_provision 'S' is not N, K or E")),
        ("", bad("sen_provision '' is not N, K or E")),
        ("ǩ", bad("sen_provision 'ǩ' is not N, K or E")),
    ],
    "sen_primary_need": [
        ("asd", Stored("ASD")),
        ("NSA", bad("sen_primary_need NSA is only used with SEN support (provision K)")),
        ("XYZ", bad("sen_primary_need 'XYZ' is not a need code")),
        ("", Stored(None)),
    ],
    "sex": [("m", Stored("M")), ("X", bad("sex 'X' is not M or F")), ("", Stored(None))],
    "ncy": [
        ("r", Stored("R")),
        ("n2", Stored("N2")),
        ("15", bad("ncy '15' is not a national curriculum year (N1, N2, R, 1-14)")),
        ("0", bad("ncy '0' is not a national curriculum year")),
        ("", Stored(None)),
    ],
    "fsm_eligible": [
        ("YES", Stored(True)),
        ("no", Stored(False)),
        ("maybe", bad("fsm_eligible 'maybe' is not true/false (or 1/0, Y/N)")),
        ("", Stored(None)),
        ("1", Stored(True)),
    ],
    "effective_date": [
        ("2025-09-03", Stored(date(2025, 9, 3), "valid_from")),
        ("03/09/2025", bad("effective_date '03/09/2025' is not a date in the form YYYY-MM-DD")),
        ("", Stored(date(2025, 9, 8), "valid_from")),
    ],
    "leaving_date": [
        ("2020-01-01", bad("leaving_date 2020-01-01 is before admission_date")),
        ("2025-09-04", Stored(date(2025, 9, 4))),
        ("soon", bad("leaving_date 'soon' is not a date")),
    ],
    "date_of_birth": [
        ("2015-13-01", bad("date_of_birth '2015-13-01' is not a date in the form YYYY-MM-DD")),
        ("2015-12-31", Stored(date(2015, 12, 31))),
        ("", bad("date_of_birth is missing")),
    ],
    "admission_date": [
        ("2030-01-01", Stored(date(2030, 1, 1))),
        ("", bad("admission_date is missing")),
    ],
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory, tiny_la) -> Path:
    landing = tmp_path_factory.mktemp("landing")
    deliver(tiny_la, landing, range(TINY.school_days))
    return landing


def _files(landing: Path, kind: FileKind) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and kind_of(p.name) is kind)


def _rows(landing: Path, kind: FileKind) -> list[SourceRow]:
    return [r for n, p in enumerate(_files(landing, kind)) for r in read_rows(kind, p, n)]


def _base(landing: Path, kind: FileKind, fits) -> SourceRow:
    """A generated row of the last day's extract of the first school that `fits`."""
    rows = [
        r
        for r in _rows(landing, kind)
        if r.file_urn == "100001" and r.extract_time == TAKEN and fits(r.values)
    ]
    return rows[0]


def _mark(landing: Path) -> SourceRow:
    return _base(
        landing,
        MARKS,
        lambda v: v["session_date"] == "2025-09-04" and v["session"] == "AM" and v["code"] == "/",
    )


def _pupil(landing: Path) -> SourceRow:
    return _base(
        landing,
        PUPILS,
        lambda v: v["sen_provision"] == "N" and not v["leaving_date"] and not v["effective_date"],
    )


def _with(row: SourceRow, line: int, **values: str) -> SourceRow:
    return replace(row, line=line, values={**row.values, **values})


def _outcomes(
    kind: FileKind, base: SourceRow, cases: list[tuple[str, str]], **check
) -> list[tuple[dict | None, str | None]]:
    """Each (column, value) substituted into the base row: (valid row, reason)."""
    rows = [_with(base, 10_000 + i, **{column: value}) for i, (column, value) in enumerate(cases)]
    valid, quarantined = checked(kind, rows, **{"now": NOW, **check})
    return [
        (valid.get((r.file_no, r.line)), quarantined.get((r.file_no, r.line), (None,))[0])
        for r in rows
    ]


@pytest.mark.parametrize("kind", [MARKS, PUPILS], ids=lambda k: k.name)
def test_each_spelling_has_its_outcome(landing: Path, kind: FileKind) -> None:
    base = _mark(landing) if kind is MARKS else _pupil(landing)
    cases = [
        (column, value, expected)
        for column, variants in VARIANTS.items()
        if column in kind.known_columns
        for value, expected in variants
    ]
    outcomes = _outcomes(kind, base, [(c, v) for c, v, _ in cases])
    for (column, value, expected), (row, reason) in zip(cases, outcomes, strict=True):
        if isinstance(expected, Stored):
            assert reason is None, (column, value, reason)
            stored = expected.column or column
            assert row[stored] == expected.value, (column, value, row[stored])
        else:
            assert row is None and reason is not None, (column, value)
            assert expected in reason, (column, value, reason)
    assert len(cases) > 30


def test_generated_rows_pass_with_the_values_written(landing: Path, tiny_la) -> None:
    day_of = {tiny_la.extract_time(i): i for i in range(len(tiny_la.days))}
    schools = {s.urn: s for s in tiny_la.schools}
    valid, quarantined = checked(SCHOOLS, _rows(landing, SCHOOLS), NOW)
    assert not quarantined
    for row in valid.values():
        school = schools[row["urn"]]
        assert (row["la_code"], row["school_name"], row["phase"]) == (
            school.la_code,
            school.name,
            school.phase,
        )
        assert row["transaction_time"] == row["extracted_at"] and row["extracted_at"] in day_of

    enrolments = {(e.urn, e.upn): e for e in tiny_la.enrolments}
    valid, quarantined = checked(PUPILS, _rows(landing, PUPILS), NOW)
    for row in valid.values():
        e, day = enrolments[(row["urn"], row["upn"])], day_of[row["extracted_at"]]
        sen = e.sen_on(day)
        assert (row["date_of_birth"], row["sex"], row["ncy"], row["admission_date"]) == (
            e.date_of_birth,
            e.sex,
            e.ncy,
            e.admission_date,
        )
        assert (row["sen_provision"], row["sen_primary_need"]) == (
            sen.provision,
            sen.primary_need or None,
        )
        # The flags as they stood on the extract's day; a column the school left out reads None.
        flags, left_out = e.flags_on(day), tiny_la.left_out(row["urn"], day)
        assert (row["fsm_eligible"], row["looked_after"]) == tuple(
            None if flag in left_out else flags[flag] for flag in ("fsm_eligible", "looked_after")
        )
        assert row["leaving_date"] in (None, e.leaving_date)
        assert (
            row["valid_from"] <= tiny_la.days[day]
            and row["transaction_time"] == row["extracted_at"]
        )
    # The generator's bad pupils rows (three schools' extracts of one day each), no others.
    assert sorted(reason for reason, _ in quarantined.values()) == sorted(
        [
            "admission_date is missing",
            "date_of_birth '31/12/2015' is not a date in the form YYYY-MM-DD",
            "sen_primary_need is missing, but is required for provision K",
        ]
        * 3
    )

    valid, quarantined = checked(MARKS, _rows(landing, MARKS), NOW)
    strangers = 0
    for row in valid.values():
        key = (row["urn"], row["upn"], row["session_date"], row["session"])
        if key not in tiny_la.marks:
            # The generator's mark for a pupil never on roll: ingest quarantines it, not the rules.
            assert row["upn"] == "B801200005001"
            strangers += 1
            continue
        mark, day = tiny_la.marks[key], day_of[row["extracted_at"]]
        code, written = mark.as_seen_on(day)
        assert row["code"] == (code or None)
        assert row["minutes_late"] == (mark.minutes_late if code in ("L", "U") else None)
        assert row["transaction_time"] in (written, row["extracted_at"])
    assert strangers == 3
    reasons = [reason for reason, _ in quarantined.values()]
    assert len(reasons) == 3 * 6
    for fragment in ("fails its check letter", "code 'ZZ'", "is a Saturday", "'2025-13-01'"):
        assert sum(fragment in r for r in reasons) >= 3, fragment
    assert reasons.count("session '' is not AM or PM") == 3


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_row_for_another_school_is_quarantined(landing: Path, kind: FileKind) -> None:
    base = _base(landing, kind, lambda v: True)
    assert base.values["urn"] == "100001"
    elsewhere = _with(base, 10_001, urn="100008")
    no_school = replace(_with(base, 10_002, urn="100008"), file_urn=None)
    spaced = _with(base, 10_003, urn=" 100001 ")
    valid, quarantined = checked(kind, [elsewhere, no_school, spaced], NOW)
    reason = quarantined[(base.file_no, 10_001)][0]
    assert reason == "the row is for school 100008 but the extract is school 100001's"
    assert valid[(base.file_no, 10_002)]["urn"] == "100008"
    assert valid[(base.file_no, 10_003)]["urn"] == "100001"


def test_session_dates_within_the_years_covered(landing: Path) -> None:
    cases = [
        ("session_date", "2006-08-31"),
        ("session_date", "2006-09-01"),
        ("session_date", "2027-09-06"),
        ("session_date", "2026-09-07"),
        ("session_date", "2025-09-09"),
    ]
    outcomes = _outcomes(MARKS, _mark(landing), cases)
    reasons = [reason for _, reason in outcomes]
    assert reasons[0] == "session_date 2006-08-31 is before 2006-09-01, the earliest date accepted"
    assert reasons[1] is None
    assert reasons[2] == (
        "session_date 2027-09-06 is after 2027-08-31, the end of the academic year after the "
        "extract's (taken 2025-09-08)"
    )
    assert reasons[3] == "session_date 2026-09-07 is after the extract was taken (2025-09-08)"
    assert reasons[4] == "session_date 2025-09-09 is after the extract was taken (2025-09-08)"
    earlier = DateLimits(first_session_date=date(2000, 9, 1))
    outcomes = _outcomes(MARKS, _mark(landing), cases[:1], limits=earlier)
    assert outcomes[0][0]["session_date"] == date(2006, 8, 31)


def test_times_from_the_future_are_quarantined(landing: Path) -> None:
    mark = _mark(landing)
    later = [
        ("last_modified", "2025-09-10T13:00:01+01:00"),
        ("last_modified", "2025-09-10T13:00:00+01:00"),
    ]
    outcomes = _outcomes(MARKS, mark, later)
    assert outcomes[0][1] == (
        "last_modified '2025-09-10T13:00:01+01:00' is more than a day in the future "
        "(after 2025-09-10T12:00:00+00:00, a day after the time of ingest)"
    )
    assert outcomes[1][1] is None
    for kind, row in ((MARKS, mark), (PUPILS, _pupil(landing))):
        too_soon = _outcomes(kind, row, [("urn", "100001")], now=TAKEN - timedelta(days=2))
        assert too_soon[0][1].startswith(
            "extracted_at '2025-09-08T16:05:00+01:00' is more than a day in the future"
        )
        in_time = _outcomes(kind, row, [("urn", "100001")], now=TAKEN - timedelta(hours=12))
        assert in_time[0][1] is None


def test_dates_of_birth_and_admission_are_plausible(landing: Path) -> None:
    pupil = _pupil(landing)
    admitted = pupil.values["admission_date"]
    cases = [
        ("date_of_birth", "1989-12-31"),
        ("date_of_birth", "1990-01-01"),
        ("date_of_birth", "2025-09-09"),
        ("date_of_birth", admitted),
        ("admission_date", "1989-08-31"),
    ]
    reasons = [reason for _, reason in _outcomes(PUPILS, pupil, cases)]
    assert reasons == [
        "date_of_birth 1989-12-31 is before 1990-01-01, the earliest date accepted",
        None,
        "date_of_birth 2025-09-09 is after the extract was taken (2025-09-08)",
        f"date_of_birth {admitted} is not before admission_date {admitted}",
        "admission_date 1989-08-31 is before 1990-01-01, the earliest date accepted",
    ]


@pytest.mark.parametrize(
    ("kind", "column"),
    [
        (MARKS, "code"),
        (MARKS, "upn"),
        (MARKS, "minutes_late"),
        (MARKS, "extracted_at"),
        (PUPILS, "fsm_eligible"),
        (PUPILS, "date_of_birth"),
        (SCHOOLS, "name"),
    ],
)
def test_json_objects_and_lists_are_not_echoed(landing: Path, kind: FileKind, column: str) -> None:
    hostile = [json.dumps({"secret": "Zorvila " * 20}), json.dumps(["Zorvila", 1])]
    base = _base(landing, kind, lambda v: True)
    outcomes = _outcomes(kind, base, [(column, value) for value in hostile])
    for _, reason in outcomes:
        assert reason == f"{column} holds a JSON object or list, not a value"


def test_a_long_value_is_cut_in_the_reason(landing: Path) -> None:
    [(_, reason)] = _outcomes(MARKS, _mark(landing), [("code", "Z" * 100_000)])
    assert reason == (f"code '{'Z' * 60}…' is not a register code of the 2024 set for 2025-09-04")


def test_the_raw_record_keeps_the_columns_the_row_had(landing: Path) -> None:
    mark = _mark(landing)
    row = replace(
        mark,
        line=10_000,
        values={k: v for k, v in mark.values.items() if k != "minutes_late"} | {"code": "ZZ"},
    )
    _, quarantined = checked(MARKS, [row], NOW)
    [(reason, raw)] = quarantined.values()
    assert raw == row.values and list(raw) == sorted(raw)
    assert "minutes_late" not in raw


def test_register_codes_differ_by_more_than_case() -> None:
    codes = kind_rules.codes_by_set()
    assert {"2024", "pre2024"} <= set(codes)
    clash = {("2024", "N"), ("2024", "n")}
    with mock.patch.object(kind_rules, "code_categories", return_value=dict.fromkeys(clash, "x")):
        with pytest.raises(ValueError, match="differ only by case"):
            kind_rules.codes_by_set()
