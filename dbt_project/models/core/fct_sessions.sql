{{
    config(
        materialized='incremental',
        unique_key=['urn', 'upn', 'session_date', 'session'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ empty_if_built_with_another_cutoff() }}"
    )
}}

-- One row per enrolment and session with a mark: the register as it stands at the cut-off
-- (the mark with the latest transaction time wins; an equal-time tie goes to the later
-- extract), with the code's category and the SEN status in force on the session's date.
--
-- Incremental: a daily build recomputes only the sessions whose mark has a new event, and
-- every session of an enrolment with a new pupil event (its SEN history may have changed
-- backwards). "New" is ingested after the previous build's watermark (`loaded_through`),
-- which holds only while the events stored up to it are exactly those that build read.
-- Another cut-off than the table's empties it first (pre-hook), and an empty table rebuilds.
-- The watermark is read before the build as a literal when it holds
-- (macros/sessions_watermark.sql); otherwise this SQL works it out.
{% set previous_watermark = previous_events_watermark(
    'select ingested_at from ' ~ ref('stg_register__mark_events')
    ~ ' union all select ingested_at from ' ~ ref('stg_register__pupil_events')
) %}

with

-- Not materialized: read three times, and DuckDB would otherwise copy every stored event
-- once per build (tens of seconds late in the year); each read needs only a few columns.
mark_events as not materialized (

    select * from {{ ref('stg_register__mark_events') }}

),

pupil_events as not materialized (

    select * from {{ ref('stg_register__pupil_events') }}

),

sen_history as (

    select * from {{ ref('fct_sen_status_history') }}

),

register_codes as (

    select * from {{ ref('register_codes') }}

),

code_mapping as (

    select * from {{ ref('register_code_mapping') }}

),

ingestions as (

    select ingested_at from mark_events
    union all
    select ingested_at from pupil_events

),

loaded as (

    -- The next build's watermark: the latest ingestion of any event this build reads, and
    -- how many events that is.
    select
        max(ingested_at) as loaded_through,
        count(*) as events_loaded
    from ingestions

),

{% if is_incremental() %}

    {% if previous_watermark is not none %}

        watermark as (

            select {{ previous_watermark }} as loaded_through

        ),

    {% else %}

        previous_build as (

            select
                loaded_through,
                events_loaded
            from {{ this }}
            order by loaded_through desc
            limit 1

        ),

        watermark as (

            -- The previous build's watermark holds if exactly the events it read are stored
            -- at or before it: none has been stored since with an earlier ingested_at (a
            -- repair, a restore) and none has gone. Otherwise, or on an empty table, it is
            -- null and every session is recomputed.
            select max(previous_build.loaded_through) as loaded_through
            from previous_build
            where previous_build.events_loaded = (
                select count(*)
                from ingestions
                where ingestions.ingested_at <= previous_build.loaded_through
            )

        ),

    {% endif %}

    changed_marks as (

        select
            mark_events.urn,
            mark_events.upn,
            mark_events.session_date,
            mark_events.session
        from mark_events
        {% if previous_watermark is not none %}
            -- A literal: DuckDB skips the row groups stored before it.
            where mark_events.ingested_at > {{ previous_watermark }}
        {% else %}
            cross join watermark
            where
                watermark.loaded_through is null
                or mark_events.ingested_at > watermark.loaded_through
        {% endif %}

    ),

    changed_enrolments as (

        select distinct
            pupil_events.urn,
            pupil_events.upn
        from pupil_events
        cross join watermark
        where pupil_events.ingested_at > watermark.loaded_through

    ),

    affected_keys as (

        select * from changed_marks
        union
        select
            mark_events.urn,
            mark_events.upn,
            mark_events.session_date,
            mark_events.session
        from mark_events
        inner join changed_enrolments
            on
                mark_events.urn = changed_enrolments.urn
                and mark_events.upn = changed_enrolments.upn

    ),

    affected_events as (

        select mark_events.*
        from mark_events
        inner join affected_keys
            on
                mark_events.urn = affected_keys.urn
                and mark_events.upn = affected_keys.upn
                and mark_events.session_date = affected_keys.session_date
                and mark_events.session = affected_keys.session

    ),

{% else %}

    affected_events as (

        select * from mark_events

    ),

{% endif %}

current_marks as (

    select *
    from affected_events
    qualify row_number() over (
        partition by urn, upn, session_date, session
        order by transaction_time desc, extracted_at desc, ingested_at desc, source_line desc
    ) = 1

),

categorised as (

    select
        current_marks.*,
        coalesce(register_codes.category, 'not_taken') as category,
        case
            when current_marks.code_set = '2024' then current_marks.code
            else code_mapping.code_2024
        end as harmonised_code
    from current_marks
    left join register_codes
        on
            current_marks.code_set = register_codes.code_set
            and current_marks.code = register_codes.code
    left join code_mapping
        on
            current_marks.code_set = 'pre2024'
            and current_marks.code = code_mapping.code_pre2024
            and code_mapping.is_default

),

with_sen_status as (

    select
        categorised.*,
        sen_history.sen_provision,
        sen_history.sen_primary_need
    from categorised
    left join sen_history
        on
            categorised.urn = sen_history.urn
            and categorised.upn = sen_history.upn
            and (categorised.session_date >= sen_history.valid_from or sen_history.is_first)
            and (categorised.session_date < sen_history.valid_to or sen_history.valid_to is null)

),

final as (

    select
        with_sen_status.urn,
        with_sen_status.upn,
        with_sen_status.academic_year,
        with_sen_status.session_date,
        with_sen_status.session,
        {{ session_key('with_sen_status.session_date', 'with_sen_status.session') }}
            as session_key,
        with_sen_status.code,
        with_sen_status.code_set,
        with_sen_status.harmonised_code,
        with_sen_status.category,
        with_sen_status.category in ('present', 'aea', 'authorised', 'unauthorised')
            as is_possible,
        with_sen_status.category in ('present', 'aea') as is_attendance,
        with_sen_status.category in ('authorised', 'unauthorised') as is_absence,
        coalesce(with_sen_status.code <> '#', false) as opens_school_session,
        with_sen_status.minutes_late,
        with_sen_status.sen_provision,
        with_sen_status.sen_primary_need,
        with_sen_status.transaction_time,
        with_sen_status.extracted_at,
        with_sen_status.ingested_at,
        loaded.loaded_through,
        loaded.events_loaded,
        {{ build_cutoff() }} as built_cutoff
    from with_sen_status
    cross join loaded

)

select * from final
