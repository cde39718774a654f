{#- A pupil's age in whole years on the 31 August before an academic year (text like
    2025/26): DfE's rule for compulsory school age and national curriculum year. -#}
{% macro age_on_31_august(date_of_birth, academic_year) -%}
    (
        cast(left({{ academic_year }}, 4) as integer)
        - year({{ date_of_birth }})
        - case when month({{ date_of_birth }}) >= 9 then 1 else 0 end
    )
{%- endmacro %}
