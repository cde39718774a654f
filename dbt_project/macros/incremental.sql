{#-
    Pre-hook of the incremental models: when the table was built with another cut-off (the
    `cutoff` variable: a rebuild with an earlier cut-off, or the first daily build after
    one), empty it, so that the model's own watermark (null on an empty table) rebuilds
    every row for this cut-off.
    Rows of sessions known only after an earlier cut-off must go, and a delete+insert by
    key never deletes a key that is no longer there.
-#}
{% macro empty_if_built_with_another_cutoff() -%}
    {% if is_incremental() %}
        delete from {{ this }}
        where {{ built_with_another_cutoff() }}
    {% endif %}
{%- endmacro %}

{#- Whether this model's table holds rows built with another cut-off than this build's
    (its pre-hook above will empty it). -#}
{% macro built_with_another_cutoff() -%}
    exists (select 1 from {{ this }} where built_cutoff is distinct from {{ build_cutoff() }})
{%- endmacro %}
