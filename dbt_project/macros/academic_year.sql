{#- The academic year a date falls in, as text like 2025/26 (1 September to 31 August). -#}
{% macro academic_year(date_column) -%}
    case
        when month({{ date_column }}) >= 9
            then
                cast(year({{ date_column }}) as varchar) || '/'
                || right(cast(year({{ date_column }}) + 1 as varchar), 2)
        else
            cast(year({{ date_column }}) - 1 as varchar) || '/'
            || right(cast(year({{ date_column }}) as varchar), 2)
    end
{%- endmacro %}

{#- The academic year before one like 2025/26: 2024/25. -#}
{% macro previous_academic_year(year_column) -%}
    cast(cast(left({{ year_column }}, 4) as integer) - 1 as varchar) || '/'
    || right(left({{ year_column }}, 4), 2)
{%- endmacro %}
