-- Children who may be missing education: enrolments that ended (a leaving date sent, or the
-- pupil dropped from the school's register without one) and that no enrolment of the same
-- UPN at a school of the same LA outlasts. A dropped pupil is only visible in the register:
-- the event store keeps news, so a pupils row that stops coming leaves no event, but a
-- pupil on roll has a mark for every session of every extract, so a register that goes on
-- without them means they are gone (docs/models.md, "children_missing_education").
with

pupils as (

    select * from {{ ref('int_pupils_current') }}

),

sessions as (

    select
        urn,
        upn,
        session_date
    from {{ ref('fct_sessions') }}

),

schools as (

    select * from {{ ref('dim_schools') }}

),

school_days as (

    select * from {{ ref('dim_school_days') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

registers as (

    select
        urn,
        upn,
        max(session_date) as last_marked_date
    from sessions
    group by urn, upn

),

-- The LA's school days: a day on which any of its schools held an open session. Counting
-- the LA's days rather than the school left's keeps counting when that school's feed stops.
la_days as (

    select distinct
        schools.la_code,
        school_days.session_date
    from school_days
    inner join schools on school_days.urn = schools.urn

),

enrolments as (

    select
        pupils.urn,
        pupils.upn,
        schools.la_code,
        schools.school_name,
        pupils.ncy,
        pupils.sen_provision,
        pupils.date_of_birth,
        pupils.leaving_date,
        registers.last_marked_date,
        schools.latest_open_session_date,
        horizon.as_of,
        cast(timezone('Europe/London', horizon.as_of) as date) as as_of_date
    from pupils
    inner join schools on pupils.urn = schools.urn
    left join registers on pupils.urn = registers.urn and pupils.upn = registers.upn
    cross join horizon

),

ends as (

    select
        *,
        case
            when leaving_date <= as_of_date then 'leaving_date'
            -- Still without a leaving date, but the school's register has moved on past
            -- the pupil's last mark: the pupil was dropped from the roll.
            when leaving_date is null and last_marked_date < latest_open_session_date
                then 'dropped'
        end as ended_by,
        case
            when leaving_date <= as_of_date then leaving_date
            when leaving_date is null and last_marked_date < latest_open_session_date
                then last_marked_date
        end as last_day_on_roll
    from enrolments

),

-- Not followed: no other school of the LA has the pupil on roll after this last day (on
-- roll now, or ended later). A join before the leaving date (dual registration while the
-- pupil moves) counts as much as one after it, and a late join as soon as it is known.
unfollowed as (

    select ended.*
    from ends as ended
    where
        ended.ended_by is not null
        -- Compulsory school age only: a child below or above it is not missing education.
        and {{ age_on_31_august(
            'ended.date_of_birth', academic_year('ended.last_day_on_roll')
        ) }} between 5 and 15
        and not exists (
            select 1
            from ends as other
            where
                other.upn = ended.upn
                and other.la_code = ended.la_code
                and other.urn <> ended.urn
                and (other.ended_by is null or other.last_day_on_roll > ended.last_day_on_roll)
        )

),

counted as (

    select
        unfollowed.urn,
        unfollowed.upn,
        count(la_days.session_date) as school_days_since
    from unfollowed
    left join la_days
        on
            unfollowed.la_code = la_days.la_code
            and unfollowed.last_day_on_roll < la_days.session_date
            and unfollowed.as_of_date >= la_days.session_date
    group by unfollowed.urn, unfollowed.upn

),

final as (

    select
        unfollowed.urn,
        unfollowed.upn,
        unfollowed.la_code,
        unfollowed.school_name,
        unfollowed.ncy,
        unfollowed.sen_provision,
        unfollowed.ended_by,
        unfollowed.last_day_on_roll,
        cast(counted.school_days_since as integer) as school_days_since,
        case
            when counted.school_days_since >= {{ var('cme_after_school_days') }} then 'listed'
            else 'watch'
        end as status,
        unfollowed.as_of
    from unfollowed
    inner join counted on unfollowed.urn = counted.urn and unfollowed.upn = counted.upn

)

select * from final
