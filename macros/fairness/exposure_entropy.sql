{#- Shannon entropy (natural log) of the distribution p_i = x_i / sum(x) of `value` per group, with 0 * ln 0 = 0:
        H = -sum(p_i * ln p_i)   (computed from p_i directly, no ln(sum x) - ... cancellation)
    and H normalised by ln(n), n = the number of rows in the group (rows with value 0 count: pass every creator to
    normalise over the whole catalog of creators, or only exposed ones for evenness among them). 1 = uniform over
    the n rows, 0 = everything on one row.
    Returns a subquery: the group_by columns, `entropy_nats`, `entropy_normalized` (null when n < 2 or the values
    sum to 0; clamped to [0, 1] against rounding) and `n_rows`. -#}
{% macro exposure_entropy(relation, value, group_by) %}
    {%- set groups = group_by | join(', ') -%}
    select
        {{ groups }},
        entropy_nats,
        case
            when n_rows < 2 then null
            -- rounding can leave a uniform distribution a hair above 1
            when entropy_nats >= ln(cast(n_rows as double)) then 1.0
            else entropy_nats / ln(cast(n_rows as double))
        end as entropy_normalized,
        n_rows
    from (
        select
            {{ groups }},
            -- clamped at 0 against rounding
            case when max(entropy_total) > 0 then
                greatest(
                    -{{ exact_sum("case when entropy_value > 0
                                    then (entropy_value / entropy_total) * ln(entropy_value / entropy_total)
                                    else 0 end") }},
                    0.0
                )
            end as entropy_nats,
            count(*) as n_rows
        from (
            select
                {{ groups }},
                cast({{ value }} as double) as entropy_value,
                sum(cast({{ value }} as double)) over (partition by {{ groups }}) as entropy_total
            from {{ relation }}
        ) as entropy_values
        group by {{ groups }}
    ) as entropy_sums
{% endmacro %}
