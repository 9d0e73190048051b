-- Typed, contracted layer over the python model int_policy_comparisons: BI tools read this table.
select
    cast(policy_a as {{ dbt.type_string() }}) as policy_a,
    cast(policy_b as {{ dbt.type_string() }}) as policy_b,
    cast(k as integer) as k,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(n_users as bigint) as n_users,
    cast(mean_a as double) as mean_a,
    cast(mean_b as double) as mean_b,
    cast(mean_difference as double) as mean_difference,
    cast(stddev_difference as double) as stddev_difference,
    cast(std_error as double) as std_error,
    cast(t_statistic as double) as t_statistic,
    cast(df as double) as df,
    cast(p_value as double) as p_value,
    cast(p_value_holm as double) as p_value_holm,
    cast(ci_low as double) as ci_low,
    cast(ci_high as double) as ci_high
from {{ python_output('int_policy_comparisons') }}
