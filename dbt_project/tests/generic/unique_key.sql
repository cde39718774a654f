{#-
    Fails with one row per combination of the `columns` that occurs more than once.

    With `latest_rows_of` (a column stamping the build that wrote each row, like
    fct_sessions.loaded_through), the daily build checks only the combinations of the rows
    the latest build wrote: an incremental delete+insert can only duplicate a key among the
    rows it inserts, and the rows it did not touch were checked when they were written. The
    variable `full_data_tests` (set by a --full-refresh build through pipeline/marts.py,
    or by hand) checks the whole table. Home-made, not dbt_utils'
    unique_combination_of_columns, which always checks the whole table (docs/models.md,
    "Tests").
-#}
{% test unique_key(model, columns, latest_rows_of=none) %}

    {% set key = columns | join(', ') %}
    {% if latest_rows_of and not var('full_data_tests') %}
        select
            {{ key }},
            count(*) as occurrences
        from {{ model }}
        where {{ latest_rows_of }} = (select max({{ latest_rows_of }}) from {{ model }})
        group by {{ key }}
        having count(*) > 1
    {% else %}
        select
            {{ key }},
            count(*) as occurrences
        from {{ model }}
        group by {{ key }}
        having count(*) > 1
    {% endif %}

{% endtest %}
