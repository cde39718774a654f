{#- The transaction-time cut-off of this build (the `as_of` variable) as a timestamp. -#}
{% macro as_of_cutoff() -%}
    cast('{{ var("as_of") }}' as timestamptz)
{%- endmacro %}
