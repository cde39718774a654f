{#-
    The school a landing path names: its nearest folder named by exactly six ASCII digits,
    else null (a whole-authority file). The rule ingestion/landing.py's urn_of_path applies
    when it checks a row's school against its file's (docs/feed.md).
-#}
{% macro urn_of_path(path_column) -%}
    list_last(
        list_filter(
            string_split({{ path_column }}, '/')[:-2],
            lambda part: regexp_full_match(part, '[0-9]{6}')
        )
    )
{%- endmacro %}
