{#-
    The enrolments the SEN aggregate marts (attendance_by_sen, attendance_by_sen_need) group,
    their measures and their primary suppression, written once for both (docs/models.md,
    "Suppression").
-#}

{#- The grouped counts, in the select list of a `group by` over enrolments. -#}
{% macro sen_aggregate_counts() -%}
    count(distinct urn) as schools,
    count(*) as enrolments,
    sum(possible_sessions) as possible_sessions,
    sum(authorised_absence_sessions + unauthorised_absence_sessions) as absence_sessions,
    count(*) filter (where is_persistent_absence) as persistent_absence_enrolments,
    count(*) filter (where is_severe_absence) as severe_absence_enrolments
{%- endmacro %}

{#- Which measures are withheld: the whole group, or its persistent or severe count. -#}
{% macro sen_withheld_flags() -%}
    {{ is_small_count('enrolments') }} as group_withheld,
    {{ is_small_count('enrolments') }}
    or {{ is_small_count('persistent_absence_enrolments') }} as persistent_withheld,
    {{ is_small_count('enrolments') }}
    or {{ is_small_count('severe_absence_enrolments') }} as severe_withheld
{%- endmacro %}

{#- The published measures of relation `r` (with the flags above), withheld as flagged. -#}
{% macro sen_published_measures(r) -%}
    cast({{ r }}.schools as integer) as schools,
    cast({{ unless_withheld(r ~ '.enrolments', r ~ '.group_withheld') }} as integer)
        as enrolments,
    cast({{ unless_withheld(r ~ '.possible_sessions', r ~ '.group_withheld') }} as integer)
        as possible_sessions,
    cast({{ unless_withheld(r ~ '.absence_sessions', r ~ '.group_withheld') }} as integer)
        as absence_sessions,
    {{ unless_withheld(
        r ~ '.absence_sessions / cast(' ~ r ~ '.possible_sessions as double)',
        r ~ '.group_withheld'
    ) }} as overall_absence_rate,
    cast({{ unless_withheld(
        r ~ '.persistent_absence_enrolments', r ~ '.persistent_withheld'
    ) }} as integer) as persistent_absence_enrolments,
    {{ unless_withheld(
        r ~ '.persistent_absence_enrolments / cast(' ~ r ~ '.enrolments as double)',
        r ~ '.persistent_withheld'
    ) }} as persistent_absence_rate,
    cast({{ unless_withheld(
        r ~ '.severe_absence_enrolments', r ~ '.severe_withheld'
    ) }} as integer) as severe_absence_enrolments,
    {{ unless_withheld(
        r ~ '.severe_absence_enrolments / cast(' ~ r ~ '.enrolments as double)',
        r ~ '.severe_withheld'
    ) }} as severe_absence_rate,
    {{ r }}.group_withheld
    or {{ r }}.persistent_withheld
    or {{ r }}.severe_withheld as suppressed
{%- endmacro %}

{#-
    The enrolments of relation `enrolments` twice over, each with its `level` and `area`:
    at school level (area = its urn), and at LA level (area = the la_code of its school in
    `schools`; left out where the school has no LA). The SEN marts group them by both.
-#}
{% macro located_enrolments(enrolments, schools) -%}
    select
        -- `level` is a keyword, but it is the published column name (MARTS.md).
        'school' as level,  -- noqa: RF04
        {{ enrolments }}.urn as area,
        {{ enrolments }}.*
    from {{ enrolments }}
    union all
    select
        'la' as level,  -- noqa: RF04
        {{ schools }}.la_code as area,
        {{ enrolments }}.*
    from {{ enrolments }}
    inner join {{ schools }} on {{ enrolments }}.urn = {{ schools }}.urn
    where {{ schools }}.la_code is not null
{%- endmacro %}

{#-
    The measures of relation `r` (grouped with sen_aggregate_counts) as they are, nothing
    withheld: for the hub's restricted tier, where attendance_by_characteristic is published
    whole (its public copy is suppressed in serving/public_tier.py).
-#}
{% macro aggregate_measures(r) -%}
    cast({{ r }}.enrolments as integer) as enrolments,
    cast({{ r }}.possible_sessions as integer) as possible_sessions,
    cast({{ r }}.absence_sessions as integer) as absence_sessions,
    {{ r }}.absence_sessions / cast({{ r }}.possible_sessions as double) as overall_absence_rate,
    cast({{ r }}.persistent_absence_enrolments as integer) as persistent_absence_enrolments,
    {{ r }}.persistent_absence_enrolments / cast({{ r }}.enrolments as double)
        as persistent_absence_rate,
    cast({{ r }}.severe_absence_enrolments as integer) as severe_absence_enrolments,
    {{ r }}.severe_absence_enrolments / cast({{ r }}.enrolments as double) as severe_absence_rate
{%- endmacro %}
