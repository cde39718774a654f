{#-
    The sessions an incremental model built from fct_sessions recomputes, as the CTE
    `recomputed_sessions` (written with the comma that follows it), over the CTE `sessions`
    (fct_sessions). The model's rows are groups of sessions, `group_columns` (a school's
    date, an enrolment's week), and a group's rows depend on its sessions alone: so a build
    recomputes every session of each group with a session written since the model's
    previous build (macros/sessions_watermark.sql), and its `delete+insert` on the same
    columns replaces the groups' rows. A full build takes every session.

    `group_start` is the group column holding the group's first date (session_date for a
    day, week_start for a week): the sessions are also filtered on `session_date` from the
    oldest changed group's start. Implied by the join, but on a column of the table, so
    DuckDB skips the row groups of older sessions instead of probing every session of the
    year (at day 150 of the bench: ten times faster for the school days' reason counts, four
    times for the enrolments' weeks; docs/performance.md).
-#}
{% macro recomputed_sessions_ctes(group_columns, group_start) %}
    {%- set changed_columns = [] -%}
    {%- set same_group = [] -%}
    {%- for column in group_columns -%}
        {%- do changed_columns.append('sessions.' ~ column) -%}
        {%- do same_group.append('sessions.' ~ column ~ ' = changed_groups.' ~ column) -%}
    {%- endfor %}
    {% if is_incremental() %}

        changed_groups as (

            select distinct
                {{ changed_columns | join(',\n                ') }}
            from sessions
            where {{ written_after_previous_build('sessions') }}

        ),

        oldest_change as (

            select min({{ group_start }}) as group_start from changed_groups

        ),

        recomputed_sessions as (

            select sessions.*
            from sessions
            inner join changed_groups
                on
                    {{ same_group | join('\n                    and ') }}
            where sessions.session_date >= (select oldest_change.group_start from oldest_change)

        ),

    {% else %}

        recomputed_sessions as (

            select * from sessions

        ),

    {% endif %}
{% endmacro %}
