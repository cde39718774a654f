-- One row per school seen in the school events or the register: its reference data and the
-- latest session with marks (its latest open session), the horizon its episodes and
-- unresolved N marks are measured against.
with

schools as (

    select * from {{ ref('int_schools_current') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

latest_open_sessions as (

    select
        urn,
        max(session_key) as latest_open_session_key,
        arg_max(session_date, session_key) as latest_open_session_date,
        arg_max(session, session_key) as latest_open_session
    from sessions
    where opens_school_session
    group by urn

),

all_schools as (

    select urn from schools
    union
    select urn from latest_open_sessions

),

final as (

    select
        all_schools.urn,
        schools.la_code,
        schools.school_name,
        schools.phase,
        latest_open_sessions.latest_open_session_date,
        latest_open_sessions.latest_open_session,
        latest_open_sessions.latest_open_session_key
    from all_schools
    left join schools on all_schools.urn = schools.urn
    left join latest_open_sessions on all_schools.urn = latest_open_sessions.urn

)

select * from final
