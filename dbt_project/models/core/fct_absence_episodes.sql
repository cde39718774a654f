{{
    config(
        materialized='incremental',
        unique_key=['urn', 'upn'],
        incremental_strategy='restart',
        restart_key='start_key',
        restart_marker='episode_id is null',
        on_schema_change='fail',
        pre_hook="{{ empty_if_built_with_another_cutoff() }}"
    )
}}

-- The absence episodes of absence_episodes (MARTS.md) without what moves every morning
-- (`is_open` against the school's latest open session, `as_of`): the mart adds those.
--
-- Incremental: an episode depends only on its enrolment's sessions, and a present or AEA
-- session ends every run. For an enrolment with sessions rewritten since the previous build
-- (macros/sessions_watermark.sql), a restart point: its first rewritten session, or, when
-- the latest stored episode starting before that was not ended (by a present or AEA
-- session) before it, that episode's start. Episodes starting before the restart point
-- cannot change: their sessions did not, and a present or AEA session before the restart
-- point follows each of them. The build recomputes the episodes from the restart point on,
-- and the `restart` strategy (macros/restart_strategy.sql) replaces the stored ones from that
-- point and leaves the earlier ones alone. A marker row per changed enrolment (its restart
-- point as start_key, no episode_id) carries the restart point to the strategy, and so
-- reaches enrolments left with no episode; markers are never stored. Another cut-off
-- empties the table first.
--
-- Gaps and islands: numbering the possible sessions, and the absences among them, in order,
-- the difference of the two numbers is constant along a run of absences. Numbers relative
-- to the restart point keep the order, so they serve as well as numbers from the first
-- session.
{%- set episode_columns = [
    'urn', 'upn', 'episode_id', 'start_key', 'academic_year', 'start_date', 'start_session',
    'end_date', 'end_session', 'sessions', 'school_days', 'main_reason_code',
    'main_reason_sessions', 'authorised_sessions', 'unauthorised_sessions',
    'sen_provision_at_start', 'sen_primary_need_at_start', 'open_until_key', 'ended_by_key',
] %}

with

-- Not materialized: read three times (DuckDB would otherwise copy every session once), and
-- each read needs only a few of its columns.
sessions as not materialized (

    select * from {{ ref('fct_sessions') }}

),

sessions_stamp as (

    {{ latest_sessions_stamp('sessions') }}

),

{% if is_incremental() %}

    stored_episodes as (

        select * from {{ this }}

    ),

    changed_enrolments as (

        select
            sessions.urn,
            sessions.upn,
            min(sessions.session_key) as first_changed_key
        from sessions
        where {{ written_after_previous_build('sessions') }}
        group by sessions.urn, sessions.upn

    ),

    unended_episodes as (

        select
            stored_episodes.urn,
            stored_episodes.upn,
            stored_episodes.start_key,
            stored_episodes.ended_by_key
        from stored_episodes
        where
            stored_episodes.ended_by_key is null
            or stored_episodes.ended_by_key
            >= (select min(changed_enrolments.first_changed_key) from changed_enrolments)

    ),

    restarts as (

        -- The latest stored episode starting before the first rewritten session: when the
        -- present or AEA session that ended it came before that session too, it is final,
        -- and so is every earlier one; else the enrolment restarts from its start. Only the
        -- latest episode before a session can be unended at it (an earlier one was ended
        -- before the next began), so the stored episodes ended before every enrolment's
        -- first rewritten session are left out before the join: nearly all of them.
        select
            changed_enrolments.urn,
            changed_enrolments.upn,
            coalesce(
                max(unended_episodes.start_key),
                any_value(changed_enrolments.first_changed_key)
            ) as restart_key
        from changed_enrolments
        left join unended_episodes
            on
                changed_enrolments.urn = unended_episodes.urn
                and changed_enrolments.upn = unended_episodes.upn
                and changed_enrolments.first_changed_key > unended_episodes.start_key
                and (
                    unended_episodes.ended_by_key is null
                    or changed_enrolments.first_changed_key <= unended_episodes.ended_by_key
                )
        group by changed_enrolments.urn, changed_enrolments.upn

    ),

    recomputed_sessions as (

        select sessions.*
        from sessions
        inner join restarts
            on
                sessions.urn = restarts.urn
                and sessions.upn = restarts.upn
                and sessions.session_key >= restarts.restart_key

    ),

{% else %}

    recomputed_sessions as (

        select * from sessions

    ),

{% endif %}

-- Not materialized: read once, so the window's sort carries only the columns used below
-- (materialized, it copied every column of every session: 75 s of a replay, 48 s without).
possible_sessions as not materialized (

    select
        *,
        row_number() over (partition by urn, upn order by session_key) as possible_number,
        lead(session_key) over (partition by urn, upn order by session_key)
            as next_possible_key
    from recomputed_sessions
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

-- The possible sessions are numbered from 1, so an enrolment's last possible number is
-- their count: counted here, not read back from the numbered sessions.
enrolment_ends as (

    select
        urn,
        upn,
        max(session_key) as last_mark_key,
        count(*) filter (where is_possible) as last_possible_number
    from recomputed_sessions
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
        max(possible_number) as end_possible_number,
        last(next_possible_key order by possible_number) as ended_by_key
    from absences
    group by urn, upn, run_number

),

recomputed_episodes as (

    select
        runs.urn,
        runs.upn,
        md5(concat_ws('|', runs.urn, runs.upn, runs.start_key)) as episode_id,
        runs.start_key,
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
        -- Only the enrolment's last run can be open: it is, while the enrolment's latest mark
        -- reaches the school's latest open session (the mart compares).
        case
            when runs.end_possible_number = enrolment_ends.last_possible_number
                then enrolment_ends.last_mark_key
        end as open_until_key,
        -- The present or AEA session that ended the run (null for the last run).
        runs.ended_by_key
    from runs
    inner join main_reasons
        on
            runs.urn = main_reasons.urn
            and runs.upn = main_reasons.upn
            and runs.run_number = main_reasons.run_number
    inner join enrolment_ends
        on
            runs.urn = enrolment_ends.urn
            and runs.upn = enrolment_ends.upn

),

episodes as (

    select * from recomputed_episodes
    {% if is_incremental() %}
        union all by name
        -- One marker per changed enrolment (see above): its restart point, no episode.
        select
            urn,
            upn,
            restart_key as start_key
        from restarts
    {% endif %}

),

final as (

    select
        {%- for column in episode_columns %}
            episodes.{{ column }},
        {%- endfor %}
        sessions_stamp.sessions_loaded_through,
        sessions_stamp.sessions_events_loaded,
        {{ build_cutoff() }} as built_cutoff
    from episodes
    cross join sessions_stamp

)

select * from final
