{#- The seed's long-tail share per group: the share of the total `value` that goes to rows whose value is strictly
    below the group's `percentile` (default 0.8) of value, the percentile linearly interpolated as numpy's default
    (percentile_cont). Rows with value equal to the threshold are not in the tail, so equal exposures give 0.
    The seed computes it over creators with exposure > 0: pass a relation filtered accordingly.
    Returns a subquery: the group_by columns, `long_tail_threshold` and `long_tail_share` (null when the values sum
    to 0). -#}
{% macro long_tail_share(relation, value, group_by, percentile=0.8) %}
    {%- set groups = group_by | join(', ') -%}
    select
        {%- for column in group_by %}
        long_tail_values.{{ column }},
        {%- endfor %}
        max(long_tail_thresholds.long_tail_threshold) as long_tail_threshold,
        sum(case when long_tail_values.{{ value }} < long_tail_thresholds.long_tail_threshold
                 then cast(long_tail_values.{{ value }} as double) else 0 end)
            / nullif(sum(cast(long_tail_values.{{ value }} as double)), 0) as long_tail_share
    from {{ relation }} as long_tail_values
    inner join (
        select
            {{ groups }},
            percentile_cont({{ percentile }}) within group (order by {{ value }}) as long_tail_threshold
        from {{ relation }}
        group by {{ groups }}
    ) as long_tail_thresholds
        on {% for column in group_by -%}
        long_tail_values.{{ column }} = long_tail_thresholds.{{ column }}{{ ' and ' if not loop.last }}
        {%- endfor %}
    group by {% for column in group_by %}long_tail_values.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
{% endmacro %}
