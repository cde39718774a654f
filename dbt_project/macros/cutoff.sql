{#- The transaction-time cut-off of this build (the `cutoff` variable) as a timestamp. -#}
{% macro build_cutoff() -%}
    cast('{{ var("cutoff") }}' as timestamptz)
{%- endmacro %}

{#-
    Whether an event was known by the cut-off: the MIS had written it (its transaction time,
    `last_modified` when sent) and had exported it (`extracted_at`) by then. A mark written
    before the cut-off but first exported after it was not known then, so a rebuild with that
    cut-off leaves it out, as the build at that time did (docs/models.md, "Cut-off").
-#}
{% macro known_by_cutoff() -%}
    transaction_time <= {{ build_cutoff() }}
    and extracted_at <= {{ build_cutoff() }}
{%- endmacro %}
