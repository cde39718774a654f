-- One row per school the build knows: the schools reference as last reported, so that a
-- report or a BI tool names a school rather than showing its URN. A school seen only in the
-- register (no schools row received yet) is kept, with no name, so that every URN of the
-- other marts has its row here.
with

schools as (

    select * from {{ ref('dim_schools') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

final as (

    select
        schools.urn,
        schools.la_code,
        schools.school_name,
        schools.phase,
        horizon.as_of
    from schools
    cross join horizon

)

select * from final
