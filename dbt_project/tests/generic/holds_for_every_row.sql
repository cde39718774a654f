{#-
    Fails with every row for which the boolean SQL `expression` is not true: false or null.
    Home-made, not dbt_utils' expression_is_true, which lets a null pass (docs/models.md,
    "Tests").
-#}
{% test holds_for_every_row(model, expression) %}

    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)

{% endtest %}
