"""Write the synthetic authority's daily extracts in the register extract format (docs/feed.md).

Schools differ the way real MIS exports do: CSV or JSON Lines, gzipped or not, a byte-order
mark, their own column order and boolean spelling, with or without `last_modified`.
"""

import csv
import gzip
import io
import json
import random
from collections.abc import Collection
from datetime import date, timedelta
from pathlib import Path

from ingestion.contract import MARKS, PUPILS, SCHOOLS
from ingestion.landing import stamp_of
from ingestion.rules.upn import make_upn
from synthetic.model import Enrolment, School, SyntheticLA

# (school index, school day index) of the extracts that carry the rows of `_add_bad_rows`:
# its pupils file BAD_PUPIL_ROWS of them, its marks file BAD_MARK_ROWS.
BAD_ROW_DAYS = ((0, 1), (1, 2), (2, 4))
BAD_PUPIL_ROWS = 3
BAD_MARK_ROWS = 7


def write_extracts_for_day(
    la: SyntheticLA, day_index: int, landing: Path, urns: Collection[str] | None = None
) -> list[Path]:
    """Each school's extract for one school day (only the `urns` given, if any), as files
    under `landing`; returns the files."""
    written = []
    for school_index, school in enumerate(la.schools):
        if urns is not None and school.urn not in urns:
            continue
        folder = landing / school.urn / stamp_of(la.extract_time(day_index))
        folder.mkdir(parents=True, exist_ok=True)
        # Every column the contract has, names included (the pipeline must read past them).
        tables = {
            "schools": (SCHOOLS.file_columns, [_school_row(school)]),
            "pupils": (PUPILS.file_columns, _pupil_rows(la, school, day_index)),
            "marks": (MARKS.file_columns, _mark_rows(la, school, day_index)),
        }
        if la.config.bad_rows:
            _add_bad_rows(la, school_index, day_index, tables["pupils"][1], tables["marks"][1])
        left_out = la.left_out(school.urn, day_index)
        for kind, (columns, rows) in tables.items():
            path = folder / f"{kind}.{school.file_format}"
            kept = tuple(c for c in columns if kind != "pupils" or c not in left_out)
            _write(
                path,
                _column_order(kept, school_index, la.config.seed),
                rows,
                bom=school_index % 6 == 4,
            )
            written.append(path)
    return written


def _school_row(school: School) -> dict[str, object]:
    return {
        "urn": school.urn,
        "la_code": school.la_code,
        "name": school.name,
        "phase": school.phase,
    }


def _pupil_rows(la: SyntheticLA, school: School, day_index: int) -> list[dict[str, object]]:
    window = la.window(day_index)
    first_day, last_day = la.days[window[0]], la.days[day_index]
    extracted_at = la.extract_time(day_index).isoformat()
    yes, no = school.bool_style
    rows = []
    for e in la.enrolments:
        if e.urn != school.urn or not _on_roll_in(e, first_day, last_day):
            continue
        dropped = (e.urn, e.upn) in la.unrecorded_leavers
        if dropped and e.leaving_date is not None and e.leaving_date < last_day:
            continue  # the MIS dropped the pupil: no row at all, and no leaving date
        sen = e.sen_on(day_index)
        changed_on = e.sen_change_day(day_index)
        flags = e.flags_on(day_index)
        rows.append(
            {
                "urn": e.urn,
                "upn": e.upn,
                "forename": e.forename,
                "surname": e.surname,
                "date_of_birth": e.date_of_birth.isoformat(),
                "sex": e.sex,
                "ncy": e.ncy,
                "admission_date": e.admission_date.isoformat(),
                # The MIS records a leaving date once the pupil has gone, not in advance.
                "leaving_date": (
                    e.leaving_date.isoformat()
                    if e.leaving_date and e.leaving_date <= last_day and not dropped
                    else ""
                ),
                "sen_provision": sen.provision,
                "sen_primary_need": sen.primary_need,
                **{flag: yes if value else no for flag, value in flags.items()},
                "effective_date": (
                    la.days[changed_on].isoformat()
                    if changed_on and school.sends_last_modified
                    else ""
                ),
                "extracted_at": extracted_at,
            }
        )
    return rows


def _on_roll_in(e: Enrolment, first_day: date, last_day: date) -> bool:
    return e.admission_date <= last_day and (e.leaving_date is None or e.leaving_date >= first_day)


def _mark_rows(la: SyntheticLA, school: School, day_index: int) -> list[dict[str, object]]:
    extracted_at = la.extract_time(day_index).isoformat()
    window_days = {la.days[i] for i in la.window(day_index)}
    rows = []
    for (urn, upn, session_date, session), mark in la.marks.items():
        if urn != school.urn or session_date not in window_days:
            continue
        code, written = mark.as_seen_on(day_index)
        rows.append(
            {
                "urn": urn,
                "upn": upn,
                "session_date": session_date.isoformat(),
                "session": session,
                "code": code,
                "minutes_late": mark.minutes_late if code in ("L", "U") else None,
                "last_modified": written.isoformat() if school.sends_last_modified else "",
                "extracted_at": extracted_at,
            }
        )
    return rows


def _add_bad_rows(
    la: SyntheticLA,
    school_index: int,
    day_index: int,
    pupils: list[dict[str, object]],
    marks: list[dict[str, object]],
) -> None:
    """Rows a real MIS export sometimes carries; each must be quarantined with its reason.

    None of them touches the ground truth: the pupils rows are for UPNs no one else has."""
    if not marks or not pupils or (school_index, day_index) not in BAD_ROW_DAYS:
        return
    school = la.schools[school_index]

    def stranger(serial: int) -> str:
        return make_upn(la.config.la_code, school.establishment, 2019, 900 + serial)

    pupil = pupils[0]
    pupils.extend(
        [
            {**pupil, "upn": stranger(1), "sen_provision": "K", "sen_primary_need": ""},
            {**pupil, "upn": stranger(2), "date_of_birth": "31/12/2015"},
            {**pupil, "upn": stranger(3), "admission_date": ""},
        ]
    )
    sample = marks[0]
    today = la.days[day_index]
    saturday = today + timedelta(days=5 - today.weekday())
    wrong_letter = "A" if sample["upn"][0] != "A" else "B"
    marks.extend(
        [
            {**sample, "upn": wrong_letter + str(sample["upn"])[1:]},
            {**sample, "code": "ZZ"},
            {**sample, "session_date": saturday.isoformat()},
            {**sample, "session_date": (today + timedelta(days=3)).isoformat()},
            {**sample, "session_date": "2025-13-01"},
            {**sample, "session": ""},
            {**sample, "upn": "B801200005001"},  # valid UPN, but never on this school's roll
        ]
    )


def _column_order(columns: tuple[str, ...], school_index: int, seed: int) -> list[str]:
    if school_index % 2 == 0:
        return list(columns)
    shuffled = list(columns)
    random.Random(seed + school_index).shuffle(shuffled)
    return shuffled


def _write(path: Path, columns: list[str], rows: list[dict[str, object]], bom: bool) -> None:
    if ".jsonl" in path.name:
        text = "".join(json.dumps({c: row.get(c) for c in columns}) + "\n" for row in rows)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        text = ("\ufeff" if bom else "") + buffer.getvalue()
    data = text.encode("utf-8")
    if path.name.endswith(".gz"):
        # mtime=0 keeps a re-generated file byte-identical, so its checksum is stable.
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
