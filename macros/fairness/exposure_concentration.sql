{#- How concentrated `value` (a creator's exposure) is within each group, in one pass over `relation`: one window
    step ranks the rows and finds the group's percentile, one aggregate turns them into
    * `gini`, the seed's formula over the values sorted ascending x1 <= ... <= xn,
          G = 2 * sum(i * x_i) / (n * sum(x_i)) - (n + 1) / n            (i 1-based)
      written as one quotient, (2 * sum(i * x_i) - (n + 1) * sum(x_i)) / (n * sum(x_i)), so integer exposures give
      an exact numerator and denominator. Ties do not matter (swapping equal values leaves sum(i * x_i) unchanged).
      Null when the group's values sum to 0; 0 for one row.
    * `long_tail_threshold`, the group's `percentile` (default 0.8) of value, linearly interpolated as numpy's
      default (percentile_cont), and `long_tail_share`, the seed's long tail: the share of the total value held by
      rows strictly below the threshold (rows equal to it are not in the tail, so equal values give 0). Null when
      the values sum to 0.
    Pass the rows to include: the seed measures both over creators with exposure > 0.
    Returns a subquery: the group_by columns, gini, long_tail_threshold, long_tail_share. `relation` may be a ref, a
    source or the name of a CTE of the calling model. -#}
{% macro exposure_concentration(relation, value, group_by, percentile=0.8) %}
    {%- set groups = group_by | join(', ') -%}
    select
        {{ groups }},
        (2 * sum(concentration_rank * concentration_value) - (count(*) + 1) * sum(concentration_value))
            / nullif(count(*) * sum(concentration_value), 0) as gini,
        max(long_tail_threshold) as long_tail_threshold,
        sum(case when concentration_value < long_tail_threshold then concentration_value else 0 end)
            / nullif(sum(concentration_value), 0) as long_tail_share
    from (
        select
            {{ groups }},
            cast({{ value }} as double) as concentration_value,
            cast(row_number() over (partition by {{ groups }} order by {{ value }}) as double) as concentration_rank,
            {{ percentile_cont_over(value, percentile, group_by) }} as long_tail_threshold
        from {{ relation }}
    ) as concentration_ranked
    group by {{ groups }}
{% endmacro %}

{#- The `fraction` percentile of `value` over each partition, linearly interpolated (percentile_cont), as a window
    expression: the SQL standard's ordered-set form on Spark; DuckDB has it as quantile_cont, since it does not take
    an ordered-set aggregate in a window. -#}
{% macro percentile_cont_over(value, fraction, partition_by) %}
    {{ return(adapter.dispatch('percentile_cont_over', 'feedlab')(value, fraction, partition_by)) }}
{% endmacro %}

{% macro duckdb__percentile_cont_over(value, fraction, partition_by) -%}
    quantile_cont({{ value }}, {{ fraction }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}

{% macro default__percentile_cont_over(value, fraction, partition_by) -%}
    percentile_cont({{ fraction }}) within group (order by {{ value }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}
