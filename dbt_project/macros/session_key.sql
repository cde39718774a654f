{#-
    A sortable text key of a register session: `2025-09-15 AM` sorts before `2025-09-15 PM`
    and before every session of a later day.
-#}
{% macro session_key(date_column, session_column) -%}
    strftime({{ date_column }}, '%Y-%m-%d') || ' ' || {{ session_column }}
{%- endmacro %}
