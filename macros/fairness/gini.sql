{#- Gini coefficient of `value` per group, the seed's formula over the values sorted ascending x1 <= ... <= xn:
        G = 2 * sum(i * x_i) / (n * sum(x_i)) - (n + 1) / n            (i 1-based)
    written as one quotient, (2 * sum(i * x_i) - (n + 1) * sum(x_i)) / (n * sum(x_i)), so integer exposures give an
    exact numerator and denominator. Ties do not matter (swapping equal values leaves sum(i * x_i) unchanged).
    Returns a subquery: the group_by columns and `gini` (null when the group's values sum to 0; 0 for one row).
    `relation` may be a ref, a source or the name of a CTE of the calling model. -#}
{% macro gini(relation, value, group_by) %}
    {%- set groups = group_by | join(', ') -%}
    select
        {{ groups }},
        (2 * sum(gini_rank * gini_value) - (count(*) + 1) * sum(gini_value))
            / nullif(count(*) * sum(gini_value), 0) as gini
    from (
        select
            {{ groups }},
            cast({{ value }} as double) as gini_value,
            cast(row_number() over (partition by {{ groups }} order by {{ value }}) as double) as gini_rank
        from {{ relation }}
    ) as gini_ranked
    group by {{ groups }}
{% endmacro %}
