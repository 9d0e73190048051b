-- The sufficient statistics of every experiment × arm × metric that the A/B statistics need: n, mean and sample
-- variance of the metric, of the pre-period covariate, and their covariance (for CUPED). Users whose metric is
-- null (e.g. no observed outcome) are left out of that metric.
{%- set metrics = ['watch_time_per_video', 'completion_rate', 'engagement', 'like_rate', 'hit'] %}

with user_metrics as (

    select * from {{ ref('fct_ab_user_metrics') }}

),

long_metrics as (

    {%- for metric in metrics %}
    select experiment_id, arm, '{{ metric }}' as metric, cast({{ metric }} as double) as value, pre_engagement
    from user_metrics
    where {{ metric }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select
    experiment_id,
    arm,
    metric,
    count(*) as n_users,
    {{ exact_avg("value") }} as mean_value,
    coalesce({{ exact_var_samp("value") }}, 0) as variance_value,
    {{ exact_avg("pre_engagement") }} as mean_covariate,
    coalesce({{ exact_var_samp("pre_engagement") }}, 0) as variance_covariate,
    coalesce({{ exact_covar_samp("value", "pre_engagement") }}, 0) as covariance
from long_metrics
group by experiment_id, arm, metric
