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

{#-
    The stamp this model's table was built from: a dict of SQL expressions, `through` and
    `events` (null on an empty table). Read when the build runs and written into its SQL as
    literals: a constant filter lets DuckDB skip the row groups of fct_sessions written
    before it, where a join with the stamp scans the whole year of sessions. The model's SQL
    is rendered before its pre-hook runs, so a table the pre-hook will empty (built with
    another cut-off: macros/incremental.sql) counts as empty here already. A unit test's
    `this` is a CTE, not a table to read now: there the stamp stays a subquery.
-#}
{% macro previous_sessions_stamp() -%}
    {%- set stamped = (
        'from ' ~ this ~ ' where not ' ~ built_with_another_cutoff()
    ) -%}
    {%- set through = 'max(sessions_loaded_through)' -%}
    {%- set events = 'arg_max(sessions_events_loaded, sessions_loaded_through)' -%}
    {%- if model is defined and model.resource_type == 'unit_test' -%}
        {{ return({
            'through': '(select ' ~ through ~ ' ' ~ stamped ~ ')',
            'events': '(select ' ~ events ~ ' ' ~ stamped ~ ')',
        }) }}
    {%- endif -%}
    {%- set stamp = {'through': 'null', 'events': 'null'} -%}
    {%- if execute -%}
        {#- As text: the timestamp round-trips exactly in this connection's time zone. -#}
        {%- set row = run_query(
            'select cast(' ~ through ~ ' as varchar), cast(' ~ events ~ ' as varchar) ' ~ stamped
        ).rows[0] -%}
        {%- if row[0] is not none -%}
            {%- do stamp.update({
                'through': "cast('" ~ row[0] ~ "' as timestamptz)",
                'events': 'cast(' ~ row[1] ~ ' as bigint)',
            }) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(stamp) }}
{%- endmacro %}

{#-
    Whether the session row `sessions` was written after the stamp this model's table was
    built from (previous_sessions_stamp); every row when the stamp is null.
-#}
{% macro written_after_previous_build(sessions) -%}
    {%- set previous = previous_sessions_stamp() -%}
    (
        {{ previous.through }} is null
        or {{ sessions }}.loaded_through > {{ previous.through }}
        or (
            {{ sessions }}.loaded_through = {{ previous.through }}
            and {{ sessions }}.events_loaded <> {{ previous.events }}
        )
    )
{%- endmacro %}

{#-
    fct_sessions' own watermark, read when its build runs: the previous build's
    `loaded_through` as a timestamp literal when it holds (exactly the events that build
    read are stored at or before it), else none, and the model's SQL works it out itself
    (as in a unit test, where `this` is a CTE). As a literal, the filter on the stored mark
    events' ingestion time lets DuckDB skip the row groups stored before it, where a join
    with the watermark read the ingestion time and key of every stored event (2.5 s of CPU
    at day 150). A table its pre-hook will empty (another cut-off) gives none.
-#}
{% macro previous_events_watermark(ingestions) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if model is defined and model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set row = run_query(
        'with previous_build as (select loaded_through, events_loaded from ' ~ this
        ~ ' where not ' ~ built_with_another_cutoff()
        ~ ' order by loaded_through desc limit 1), '
        ~ 'ingestions as (' ~ ingestions ~ ') '
        ~ 'select cast(loaded_through as varchar) from previous_build '
        ~ 'where events_loaded = (select count(*) from ingestions '
        ~ 'where ingestions.ingested_at <= previous_build.loaded_through)'
    ).rows -%}
    {%- if row | length == 0 or row[0][0] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ row[0][0] ~ "' as timestamptz)") }}
{%- endmacro %}
