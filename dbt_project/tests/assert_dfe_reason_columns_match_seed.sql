-- The reason columns of dfe_daily_attendance (macro dfe_reason_columns) are exactly the
-- seed's DfE columns. Returns each column that is in one list and not the other.
with

reason_columns as (

    select * from {{ ref('dfe_reason_columns') }}

),

macro_columns as (

    select unnest([
        {%- for column in dfe_reason_columns() %}
            '{{ column }}'{{ "," if not loop.last }}
        {%- endfor %}
    ]) as dfe_column

),

failures as (

    select
        reason_columns.dfe_column,
        'in the seed, not in the macro' as problem
    from reason_columns
    anti join macro_columns on reason_columns.dfe_column = macro_columns.dfe_column
    union all
    select
        macro_columns.dfe_column,
        'in the macro, not in the seed' as problem
    from macro_columns
    anti join reason_columns on macro_columns.dfe_column = reason_columns.dfe_column

)

select * from failures
