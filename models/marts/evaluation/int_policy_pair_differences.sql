-- Paired per-user differences between every two policies, summarised per metric and K (b minus a, a < b by name).
-- Only these small summaries go on to SciPy (int_policy_comparisons).
with user_metrics as (

    select * from {{ ref('fct_offline_user_metrics') }}

),

long_metrics as (

    {%- for metric in ['hit', 'recall', 'ndcg', 'mrr'] %}
    select policy, user_id, k, '{{ metric }}' as metric, {{ metric }} as value from user_metrics
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

paired as (

    select
        a.policy as policy_a,
        b.policy as policy_b,
        a.k,
        a.metric,
        b.value - a.value as difference,
        a.value as value_a,
        b.value as value_b
    from long_metrics as a
    inner join long_metrics as b
        on a.user_id = b.user_id and a.k = b.k and a.metric = b.metric and a.policy < b.policy

)

select
    policy_a,
    policy_b,
    k,
    metric,
    count(*) as n_users,
    {{ exact_avg("value_a") }} as mean_a,
    {{ exact_avg("value_b") }} as mean_b,
    {{ exact_avg("difference") }} as mean_difference,
    coalesce({{ exact_stddev_samp("difference") }}, 0) as stddev_difference
from paired
group by policy_a, policy_b, k, metric
