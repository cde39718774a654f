-- The days each school is expected open, as the latest extract check wrote them.
with

source as (

    select * from {{ source('ops', 'school_calendar') }}

),

final as (

    select
        urn,
        school_day
    from source

)

select * from final
