-- One row per run of consecutive absence sessions of one enrolment (MARTS.md).
--
-- The episodes are fct_absence_episodes (built incrementally); this adds what moves every
-- morning without the pupil's marks changing: whether the episode is still open against the
-- school's latest open session, and the horizon.
--
-- A view: both columns move every morning for every episode of the year, so as a table this
-- mart was written whole each morning (about 2 million rows at day 150, 2 s); publication
-- copies it out in any case, and readers read the published copy.
{{ config(materialized='view') }}

with

episodes as (

    select * from {{ ref('fct_absence_episodes') }}

),

schools as (

    select * from {{ ref('dim_schools') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

final as (

    select
        episodes.urn,
        episodes.upn,
        episodes.episode_id,
        episodes.academic_year,
        episodes.start_date,
        episodes.start_session,
        episodes.end_date,
        episodes.end_session,
        episodes.sessions,
        episodes.school_days,
        episodes.main_reason_code,
        episodes.main_reason_sessions,
        episodes.authorised_sessions,
        episodes.unauthorised_sessions,
        episodes.sen_provision_at_start,
        episodes.sen_primary_need_at_start,
        -- Open: nothing broke the run up to the latest session with marks (only the
        -- enrolment's last run has open_until_key), and the enrolment is still on the
        -- register then (a pupil who left closes the episode).
        coalesce(
            episodes.open_until_key >= schools.latest_open_session_key, false
        ) as is_open,
        horizon.as_of
    from episodes
    left join schools on episodes.urn = schools.urn
    cross join horizon

)

select * from final
