-- One row per run of consecutive absence sessions of one enrolment (MARTS.md).
--
-- Consecutive is over the school's open sessions, which the enrolment's own possible
-- sessions follow in order: sessions the school did not hold (weekends, holidays, `#`) have
-- no possible mark and so never break a run; a present or AEA session does; sessions not
-- possible for the pupil alone (X, Y1..Y7, Q, D, Z) and marks not yet taken are skipped.
-- Gaps and islands: numbering the possible sessions, and the absences among them, in order,
-- the difference of the two numbers is constant along a run of absences.
with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

schools as (

    select * from {{ ref('dim_schools') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

possible_sessions as (

    select
        *,
        row_number() over (partition by urn, upn order by session_key) as possible_number
    from sessions
    where is_possible

),

absences as (

    select
        *,
        possible_number
        - row_number() over (partition by urn, upn order by session_key) as run_number
    from possible_sessions
    where is_absence

),

enrolment_ends as (

    select
        urn,
        upn,
        max(session_key) as last_mark_key
    from sessions
    group by urn, upn

),

last_possible as (

    select
        urn,
        upn,
        max(possible_number) as last_possible_number
    from possible_sessions
    group by urn, upn

),

reasons as (

    select
        urn,
        upn,
        run_number,
        code,
        count(*) as code_sessions,
        min(possible_number) as first_possible_number
    from absences
    group by urn, upn, run_number, code

),

main_reasons as (

    -- The code with most sessions; a tie goes to the code seen first in the episode.
    select *
    from reasons
    qualify row_number() over (
        partition by urn, upn, run_number
        order by code_sessions desc, first_possible_number asc
    ) = 1

),

runs as (

    select
        urn,
        upn,
        run_number,
        min(session_key) as start_key,
        first(academic_year order by possible_number) as academic_year,
        first(session_date order by possible_number) as start_date,
        first(session order by possible_number) as start_session,
        last(session_date order by possible_number) as end_date,
        last(session order by possible_number) as end_session,
        count(*) as sessions,
        count(distinct session_date) as school_days,
        count(*) filter (where category = 'authorised') as authorised_sessions,
        count(*) filter (where category = 'unauthorised') as unauthorised_sessions,
        first(sen_provision order by possible_number) as sen_provision_at_start,
        first(sen_primary_need order by possible_number) as sen_primary_need_at_start,
        max(possible_number) as end_possible_number
    from absences
    group by urn, upn, run_number

),

final as (

    select
        runs.urn,
        runs.upn,
        md5(concat_ws('|', runs.urn, runs.upn, runs.start_key)) as episode_id,
        runs.academic_year,
        runs.start_date,
        runs.start_session,
        runs.end_date,
        runs.end_session,
        cast(runs.sessions as integer) as sessions,
        cast(runs.school_days as integer) as school_days,
        main_reasons.code as main_reason_code,
        cast(main_reasons.code_sessions as integer) as main_reason_sessions,
        cast(runs.authorised_sessions as integer) as authorised_sessions,
        cast(runs.unauthorised_sessions as integer) as unauthorised_sessions,
        runs.sen_provision_at_start,
        runs.sen_primary_need_at_start,
        -- Open: nothing broke the run up to the latest session with marks, and the enrolment
        -- is still on the register then (a pupil who left closes the episode).
        coalesce(
            runs.end_possible_number = last_possible.last_possible_number
            and enrolment_ends.last_mark_key >= schools.latest_open_session_key,
            false
        ) as is_open,
        horizon.as_of
    from runs
    inner join main_reasons
        on
            runs.urn = main_reasons.urn
            and runs.upn = main_reasons.upn
            and runs.run_number = main_reasons.run_number
    inner join last_possible
        on
            runs.urn = last_possible.urn
            and runs.upn = last_possible.upn
    inner join enrolment_ends
        on
            runs.urn = enrolment_ends.urn
            and runs.upn = enrolment_ends.upn
    left join schools on runs.urn = schools.urn
    cross join horizon

)

select * from final
