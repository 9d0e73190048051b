{#- Min-max scaling of an expression to [0, 1] over the whole relation (sklearn's MinMaxScaler on one column).
    A constant column scales to 0 rather than dividing by zero. -#}
{% macro minmax_normalize(expression) %}
    coalesce(
        ({{ expression }} - min({{ expression }}) over ())
        / nullif(max({{ expression }}) over () - min({{ expression }}) over (), 0),
        0
    )
{% endmacro %}
