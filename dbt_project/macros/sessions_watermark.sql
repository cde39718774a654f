{#-
    How a model built incrementally from fct_sessions knows which session rows changed since
    its own previous build. fct_sessions stamps every row it writes with its build's
    watermark (`loaded_through`, `events_loaded`); a downstream model stores the stamp of the
    latest fct_sessions build it read (`sessions_loaded_through`, `sessions_events_loaded`).
    Rows written since carry a later `loaded_through`, or the same one with another
    `events_loaded` (fct_sessions recomputed every row after an event was stored behind its
    watermark). Stamps are compared rather than the rows' build times, so that a build that
    stopped before the downstream model (a failed test upstream) leaves nothing behind: the
    next build takes every row written since the stamp the model last read.
-#}

{#- One row: the stamp of the latest fct_sessions build (both null on an empty table). -#}
{% macro latest_sessions_stamp(sessions) -%}
    select
        max(loaded_through) as sessions_loaded_through,
        arg_max(events_loaded, loaded_through) as sessions_events_loaded
    from {{ sessions }}
{%- endmacro %}

{#- One row: the stamp this model's table was built from (both null on an empty table). -#}
{% macro previous_sessions_stamp() -%}
    select
        max(sessions_loaded_through) as sessions_loaded_through,
        arg_max(sessions_events_loaded, sessions_loaded_through) as sessions_events_loaded
    from {{ this }}
{%- endmacro %}

{#-
    Whether the session row `sessions` was written after the stamp `previous` (a relation
    with the columns of previous_sessions_stamp); every row when the stamp is null.
-#}
{% macro written_after_stamp(sessions, previous) -%}
    (
        {{ previous }}.sessions_loaded_through is null
        or {{ sessions }}.loaded_through > {{ previous }}.sessions_loaded_through
        or (
            {{ sessions }}.loaded_through = {{ previous }}.sessions_loaded_through
            and {{ sessions }}.events_loaded <> {{ previous }}.sessions_events_loaded
        )
    )
{%- endmacro %}
