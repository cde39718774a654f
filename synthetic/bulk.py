"""The synthetic generator at local-authority and national scale, vectorised in DuckDB SQL.

The object model (`model.py`) draws every mark in Python and keeps it, which suits a few
thousand pupils; 250,000 pupils over a school year is 95 million marks. This path draws the
same kind of authority (schools by phase, SEN provision and needs, absence propensities,
`N` marks replaced by the real reason two school days later, nursery afternoons `X`) from
a hash of (seed, pupil, day), so any day's extract or any stretch of history can be produced
on its own, in SQL, without holding the year in memory.

Two outputs: the register extract files of one school day (`write_day_extracts`), exactly
what a school would send; and the events that ingesting the extracts of the days before
would have stored (`write_history`), so a benchmark can start on day 150 without ingesting
149 mornings first. Its ground truth is `marks_sql`: each session's code as seen by the
extract of a given day.
"""

import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb

from ingestion.rules.upn import check_letter_sql
from synthetic.model import school_days

# csv, jsonl, csv.gz, jsonl.gz: every format the contract allows, one per school in turn.
FORMATS = (("csv", "csv", None), ("jsonl", "json", None), ("csv.gz", "csv", "gzip"))
FORMATS += (("jsonl.gz", "json", "gzip"),)
# Extracts run at 15:05 UTC (16:05 in UK summer, 15:05 in winter): the same register day.
EXTRACT_TIME = time(15, 5)
# Reasons for a day's absence and their weights (out of 100), as in the object model.
REASONS = (("I", 35), ("M", 6), ("O", 10), ("G", 6), ("N", 14), ("U", 5), ("L", 8))
REASONS += (("C", 3), ("R", 2), ("E", 1), ("V", 3), ("B", 2), ("P", 5))
NEEDS = ("SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH")
PHASE_ORDER = ("primary", "primary", "secondary", "primary", "special", "primary")
PHASE_ORDER += ("secondary", "primary", "ap", "primary", "secondary", "primary")
YEAR_GROUPS = {
    "primary": ("N2", "R", "1", "2", "3", "4", "5", "6"),
    "secondary": ("7", "8", "9", "10", "11"),
    "special": ("3", "5", "7", "9", "11"),
    "ap": ("9", "10", "11"),
}
# An `N` (no reason yet) is replaced by the real reason in the extract this many days later.
N_RESOLVED_AFTER = 2


@dataclass(frozen=True)
class BulkConfig:
    pupils: int = 250_000
    pupils_per_school: int = 500
    schools_per_la: int = 500
    first_la_code: int = 881
    start: date = date(2025, 9, 1)
    school_days: int = 190
    window_days: int = 10
    seed: int = 2025

    @property
    def schools(self) -> int:
        return max(1, -(-self.pupils // self.pupils_per_school))

    @property
    def days(self) -> list[date]:
        return school_days(self.start, self.school_days)

    def extract_time(self, day_index: int) -> datetime:
        return datetime.combine(self.days[day_index], EXTRACT_TIME)

    def window(self, day_index: int) -> range:
        return range(max(0, day_index - self.window_days + 1), day_index + 1)


def _uniform(*parts: str) -> str:
    """A number in [0, 1) drawn from the hash of the parts: the same parts, the same number."""
    return f"((hash({', '.join(parts)}) % 1000003) / 1000003.0)"


def _pick(options: tuple[str, ...], draw: str) -> str:
    listed = ", ".join(repr(o) for o in options)
    return f"[{listed}][1 + cast(floor({draw} * {len(options)}) as integer)]"


def create_population(con: duckdb.DuckDBPyConnection, config: BulkConfig) -> None:
    """Tables bulk_schools, bulk_pupils and bulk_days (temporary) in `con`."""
    seed = str(config.seed)
    phases = "[" + ", ".join(repr(p) for p in PHASE_ORDER) + "]"
    con.execute(
        f"""
        create or replace temp table bulk_schools as
        select
            n as school_no,
            lpad(cast(100001 + n * 7 as varchar), 6, '0') as urn,
            cast({config.first_la_code} + n // {config.schools_per_la} as varchar) as la_code,
            cast(1000 + n % 9000 as varchar) as establishment,
            {phases}[1 + n % 12] as phase,
            'Synthetic ' || {phases}[1 + n % 12] || ' School ' || (n + 1) as name,
            n % 4 as format_no
        from range({config.schools}) as t(n)
        """
    )
    groups = {
        phase: "[" + ", ".join(repr(g) for g in gs) + "]" for phase, gs in YEAR_GROUPS.items()
    }
    need = _pick(NEEDS, _uniform(seed, "pupil_no", "'need'"))
    con.execute(
        f"""
        create or replace temp table bulk_pupils as
        with drawn as (
            select
                p.n as pupil_no,
                s.*,
                row_number() over (partition by s.school_no order by p.n) - 1 as serial,
                {_uniform(seed, "p.n", "'sen'")} as sen_draw,
                {_uniform(seed, "p.n", "'ncy'")} as ncy_draw,
                {_uniform(seed, "p.n", "'prop'")} as prop_draw,
                {_uniform(seed, "p.n", "'scale'")} as scale_draw,
                {_uniform(seed, "p.n", "'fsm'")} as fsm_draw,
                cast({_uniform(seed, "p.n", "'adm'")} * 3 as integer) as years_before,
                cast({_uniform(seed, "p.n", "'dob'")} * 365 as integer) as dob_offset
            from range({config.pupils}) as p(n)
            inner join bulk_schools as s on s.school_no = p.n % {config.schools}
        ),
        typed as (
            select
                *,
                case phase
                    when 'primary' then {groups["primary"]}
                    when 'secondary' then {groups["secondary"]}
                    when 'special' then {groups["special"]}
                    else {groups["ap"]}
                end as year_groups,
                case
                    when phase = 'special' then 'E'
                    when sen_draw < 0.04 then 'E'
                    when sen_draw < 0.17 then 'K'
                    else 'N'
                end as sen_provision
            from drawn
        ),
        placed as (
            select
                *,
                year_groups[1 + cast(floor(ncy_draw * len(year_groups)) as integer)] as ncy,
                {config.start.year} - years_before as admitted_year
            from typed
        ),
        final as (
            select
                pupil_no,
                school_no,
                urn,
                la_code,
                la_code || establishment || lpad(cast(admitted_year % 100 as varchar), 2, '0')
                    || lpad(cast(serial % 1000 as varchar), 3, '0') as upn_body,
                make_date(
                    {config.start.year} - coalesce(try_cast(ncy as integer), -1) - 6, 9, 1
                ) + dob_offset as date_of_birth,
                case when fsm_draw < 0.5 then 'M' else 'F' end as sex,
                ncy,
                make_date(admitted_year, 9, 1) as admission_date,
                sen_provision,
                case when sen_provision = 'N' then null else {need} end as sen_primary_need,
                fsm_draw < 0.25 as fsm_eligible,
                fsm_draw > 0.99 as looked_after,
                fsm_draw between 0.5 and 0.53 as child_in_need,
                fsm_draw between 0.6 and 0.61 as child_protection_plan,
                case sen_provision when 'N' then 0.04 when 'K' then 0.08 else 0.11 end
                * case
                    when prop_draw < 0.12 then 3 + scale_draw * 5
                    else 0.2 + scale_draw * 1.3
                end as propensity
            from placed
        )
        select
            * exclude (upn_body, propensity),
            {check_letter_sql("upn_body")} || upn_body as upn,
            least(propensity, 0.6) as propensity
        from final
        order by school_no, pupil_no
        """
    )
    con.execute("create or replace temp table bulk_days (day_no integer, session_date date)")
    con.executemany("insert into bulk_days values (?, ?)", list(enumerate(config.days)))


def marks_sql(config: BulkConfig, seen_on: int, days: range) -> str:
    """Every session's mark on the `days` (school day numbers) as the extract taken on day
    `seen_on` shows it: urn, upn, session_date, session, code, minutes_late, last_modified
    (UTC), pupil_no, day_no."""
    seed = str(config.seed)
    draw = _uniform(seed, "p.pupil_no", "d.day_no")
    reason_draw = _uniform(seed, "p.pupil_no", "d.day_no", "'reason'")
    weights = sum(w for _, w in REASONS)
    cases, running = [], 0
    for code, weight in REASONS:
        running += weight
        cases.append(f"when {reason_draw} < {running / weights} then '{code}'")
    return f"""
        with day_marks as (
            select
                p.pupil_no, p.urn, p.upn, p.ncy, d.day_no, d.session_date,
                {draw} < p.propensity as absent,
                case {" ".join(cases)} else 'I' end as reason,
                {_uniform(seed, "p.pupil_no", "d.day_no", "'late'")} as late_draw
            from bulk_pupils as p
            cross join (
                select * from bulk_days where day_no between {days.start} and {days.stop - 1}
            ) as d
            where p.admission_date <= d.session_date
        ),
        sessions as (
            select m.*, s.session, s.present, s.recorded_time
            from day_marks as m
            cross join (
                values ('AM', '/', time '08:10'), ('PM', '\\', time '12:40')
            ) as s(session, present, recorded_time)
        ),
        coded as (
            select
                *,
                {seen_on} - day_no >= {N_RESOLVED_AFTER} as resolved,
                case
                    when ncy = 'N2' and session = 'PM' then 'X'
                    when not absent then present
                    when reason = 'M' and session = 'PM' then present
                    when reason in ('L', 'U') and session = 'PM' then present
                    when reason = 'N' and {seen_on} - day_no >= {N_RESOLVED_AFTER} then 'I'
                    else reason
                end as code
            from sessions
        )
        select
            urn, upn, session_date, session, code,
            case when code in ('L', 'U') then 5 + cast(late_draw * 40 as integer) end
                as minutes_late,
            session_date + recorded_time
            + case when absent and reason = 'N' and resolved
                then interval 2 day + interval 2 hour else interval 0 day end
                as last_modified,
            absent and reason = 'N' and resolved as amended,
            pupil_no, day_no
        from coded
    """


def write_day_extracts(
    con: duckdb.DuckDBPyConnection, config: BulkConfig, day_index: int, landing: Path
) -> int:
    """Every school's schools, pupils and marks files for the extract of school day
    `day_index` (the contract's layout: `<urn>/<stamp>/<kind>.<format>`), under `landing`;
    returns the number of mark rows. The population tables must exist (`create_population`)."""
    extracted = config.extract_time(day_index)
    stamp = extracted.strftime("%Y-%m-%dT%H-%M-%SZ")
    extracted_text = extracted.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    window = config.window(day_index)
    con.execute(
        f"""
        create or replace temp table bulk_marks_out as
        select
            urn, upn, strftime(session_date, '%Y-%m-%d') as session_date, session, code,
            minutes_late,
            strftime(last_modified, '%Y-%m-%dT%H:%M:%S+00:00') as last_modified,
            '{extracted_text}' as extracted_at
        from ({marks_sql(config, day_index, window)})
        order by urn, upn, session_date, session
        """
    )
    con.execute(
        f"""
        create or replace temp table bulk_pupils_out as
        select
            urn, upn, 'Zorvila' as forename, 'Wexcombe' as surname,
            strftime(date_of_birth, '%Y-%m-%d') as date_of_birth, sex, ncy,
            strftime(admission_date, '%Y-%m-%d') as admission_date, '' as leaving_date,
            sen_provision, coalesce(sen_primary_need, '') as sen_primary_need,
            case when fsm_eligible then 'true' else 'false' end as fsm_eligible,
            case when looked_after then 'true' else 'false' end as looked_after,
            case when child_in_need then 'true' else 'false' end as child_in_need,
            case when child_protection_plan then 'true' else 'false' end
                as child_protection_plan,
            '' as effective_date, '{extracted_text}' as extracted_at
        from bulk_pupils
        where admission_date <= date '{config.days[day_index]}'
        order by urn, upn
        """
    )
    con.execute(
        "create or replace temp table bulk_schools_out as "
        "select urn, la_code, name, phase from bulk_schools order by urn"
    )
    # Beside the landing folder, never in it: a reader must not see half-written files.
    staging = landing.with_name(landing.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for format_no, (suffix, copy_format, compression) in enumerate(FORMATS):
        for kind in ("schools", "pupils", "marks"):
            target = staging / f"{kind}-{format_no}"
            options = [f"format {copy_format}", "partition_by (urn)", "write_partition_columns"]
            if copy_format == "csv":
                options.append("header")
            if compression:
                options.append(f"compression {compression}")
            con.execute(
                f"""
                copy (
                    select * from bulk_{kind}_out
                    where urn in (select urn from bulk_schools where format_no = {format_no})
                ) to '{target}' ({", ".join(options)})
                """
            )
            _move_partitions(target, landing, stamp, f"{kind}.{suffix}")
    shutil.rmtree(staging, ignore_errors=True)
    return int(con.execute("select count(*) from bulk_marks_out").fetchone()[0])


def _move_partitions(partitioned: Path, landing: Path, stamp: str, file_name: str) -> None:
    """DuckDB writes `urn=<urn>/data_0.<ext>`; the contract wants `<urn>/<stamp>/<file>`."""
    if not partitioned.exists():
        return
    for folder in partitioned.iterdir():
        urn = folder.name.split("=", 1)[1]
        (written,) = list(folder.iterdir())
        target = landing / urn / stamp
        target.mkdir(parents=True, exist_ok=True)
        os.replace(written, target / file_name)


def write_history(
    con: duckdb.DuckDBPyConnection, config: BulkConfig, through_day: int, store_schema_ready: bool
) -> int:
    """Append to the event store in `con` the events that ingesting the extracts of school
    days 0..`through_day` would have stored (one extract per day and school, each day's
    events ingested 30 minutes after its extract); returns the mark events written.

    Each session is recorded by the extract of its own day; an `N` resolved two days later
    is a `mark_changed` event from that later extract, if it is within the history. Pupils
    and schools are registered by the first extract that shows them."""
    if not store_schema_ready:
        from ingestion.event_store import create_store

        create_store(con)
    days = config.days
    first_extract = config.extract_time(0)
    con.execute(
        f"""
        insert into events.school_events by name
        select
            md5('school|' || urn) as event_id, 'school_registered' as event_type, urn, la_code,
            name as school_name, phase,
            timezone('UTC', timestamp '{first_extract}') as transaction_time,
            timezone('UTC', timestamp '{first_extract}') as extracted_at,
            timezone('UTC', timestamp '{first_extract}') + interval 30 minute as ingested_at,
            'bulk-history' as load_id,
            urn || '/history/schools.csv' as source_file, 2 as source_line
        from bulk_schools
        """
    )
    con.execute(
        f"""
        insert into events.pupil_events by name
        -- Every pupil was admitted before the first day, so its extract shows them all.
        with seen as (select *, date '{days[0]}' as first_extract_date from bulk_pupils)
        select
            md5('pupil|' || urn || upn) as event_id, 'admitted' as event_type,
            urn, upn, first_extract_date as valid_from, date_of_birth, sex, ncy,
            admission_date, null::date as leaving_date, sen_provision, sen_primary_need,
            fsm_eligible, looked_after, child_in_need, child_protection_plan,
            timezone('UTC', first_extract_date + time '{EXTRACT_TIME}') as transaction_time,
            timezone('UTC', first_extract_date + time '{EXTRACT_TIME}') as extracted_at,
            timezone('UTC', first_extract_date + time '{EXTRACT_TIME}') + interval 30 minute
                as ingested_at,
            'bulk-history' as load_id, urn || '/history/pupils.csv' as source_file,
            cast(pupil_no as integer) as source_line
        from seen
        """
    )
    before = con.execute("select count(*) from events.mark_events").fetchone()[0]
    # One block of days at a time keeps memory flat whatever the history's length.
    block = 10
    for start in range(0, through_day + 1, block):
        stop = min(start + block, through_day + 1)
        recorded = marks_sql(config, -N_RESOLVED_AFTER, range(start, stop))
        changed = marks_sql(config, through_day + N_RESOLVED_AFTER, range(start, stop))
        con.execute(
            f"""
            insert into events.mark_events by name
            with recorded as ({recorded}),
            changed as (
                select c.*
                from ({changed}) as c
                where c.amended and c.day_no + {N_RESOLVED_AFTER} <= {through_day}
            ),
            events as (
                select *, 'mark_recorded' as event_type, day_no as seen_day from recorded
                union all
                select *, 'mark_changed' as event_type, day_no + {N_RESOLVED_AFTER} as seen_day
                from changed
            )
            select
                md5(concat_ws('|', event_type, urn, upn, session_date, session))
                    as event_id,
                event_type, urn, upn, session_date, session, code, minutes_late,
                timezone('UTC', last_modified) as transaction_time,
                timezone('UTC', d.seen_date + time '{EXTRACT_TIME}') as extracted_at,
                timezone('UTC', d.seen_date + time '{EXTRACT_TIME}') + interval 30 minute
                    as ingested_at,
                'bulk-history' as load_id, urn || '/history/marks.csv' as source_file,
                cast(pupil_no * 2 + (session = 'PM')::integer as integer) as source_line
            from events
            inner join (select day_no as seen_no, session_date as seen_date from bulk_days) as d
                on d.seen_no = events.seen_day
            -- In the order the mornings' files would have stored them: day, then school.
            order by events.seen_day, urn, upn, session_date, session
            """
        )
    after = con.execute("select count(*) from events.mark_events").fetchone()[0]
    return int(after - before)
