{#-
    Statistical disclosure control for the aggregate marts: a count of people from 1 up to
    (not including) `suppress_counts_below` is withheld. Zero is shown: it reveals nobody.
-#}
{% macro is_small_count(column) -%}
    coalesce({{ column }} >= 1 and {{ column }} < {{ var("suppress_counts_below") }}, false)
{%- endmacro %}

{#- The value, or null when `withheld` (a boolean SQL expression) is true. -#}
{% macro unless_withheld(value, withheld) -%}
    case when {{ withheld }} then null else {{ value }} end
{%- endmacro %}
