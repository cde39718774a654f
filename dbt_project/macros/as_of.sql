{#- The transaction-time cut-off of this build (the `as_of` variable) as a timestamp. -#}
{% macro as_of_cutoff() -%}
    cast('{{ var("as_of") }}' as timestamptz)
{%- endmacro %}

{#-
    Whether an event was known by the cut-off: the MIS had written it (its transaction time,
    `last_modified` when sent) and had exported it (`extracted_at`) by then. A mark written
    before the cut-off but first exported after it was not known then, so a rebuild as of the
    cut-off leaves it out, as the build at that time did (docs/models.md, "as_of").
-#}
{% macro known_by_cutoff() -%}
    transaction_time <= {{ as_of_cutoff() }}
    and extracted_at <= {{ as_of_cutoff() }}
{%- endmacro %}
