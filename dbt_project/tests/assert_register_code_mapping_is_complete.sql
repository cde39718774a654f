-- Every pre-2024 code has exactly one default mapping, from a code of the pre-2024 set onto
-- a code of the 2024 set. Returns the codes that break this.
with

register_codes as (

    select * from {{ ref('register_codes') }}

),

code_mapping as (

    select * from {{ ref('register_code_mapping') }}

),

defaults as (

    select
        register_codes.code,
        count(code_mapping.code_2024) filter (where code_mapping.is_default) as default_mappings
    from register_codes
    left join code_mapping on register_codes.code = code_mapping.code_pre2024
    where register_codes.code_set = 'pre2024'
    group by register_codes.code

),

mapped_from_unknown as (

    select code_mapping.code_pre2024 as code
    from code_mapping
    left join register_codes
        on
            code_mapping.code_pre2024 = register_codes.code
            and register_codes.code_set = 'pre2024'
    where register_codes.code is null

),

mapped_to_unknown as (

    select code_mapping.code_2024 as code
    from code_mapping
    left join register_codes
        on
            code_mapping.code_2024 = register_codes.code
            and register_codes.code_set = '2024'
    where register_codes.code is null

),

failures as (

    select
        code,
        'not exactly one default mapping' as problem
    from defaults
    where default_mappings <> 1
    union all
    select
        code,
        'not a pre-2024 code' as problem
    from mapped_from_unknown
    union all
    select
        code,
        'not a 2024 code' as problem
    from mapped_to_unknown

)

select * from failures
