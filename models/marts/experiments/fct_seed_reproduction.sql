-- The seed notebook's figures as the warehouse reproduces them, and beside each the honest estimate of the same
-- quantity: the seed's two feeds (popularity by mean watch time vs SVD) served to randomly assigned users of the
-- simulated world (experiment seed_feeds_online, outcomes from the response model) and their creator exposure.
with reproduced as (

    select * from {{ python_output('int_seed_reproduction') }}

),

honest_ab as (

    select * from {{ ref('fct_ab_results') }}
    where experiment_id = 'seed_feeds_online' and metric = 'watch_time_per_video'

),

honest_fairness as (

    select policy, gini_exposed, long_tail_share
    from {{ ref('fct_fairness') }}
    where k = 10 and policy in ('popularity_mean_watch', 'svd')

),

honest as (

    select 'control_watch_time_s' as figure, mean_control as honest_value from honest_ab
    union all select 'treatment_watch_time_s', mean_treatment from honest_ab
    union all select 'uplift_pct', 100 * relative_lift from honest_ab
    union all select 'p_value', p_value from honest_ab
    union all select 'creator_gini_control', gini_exposed from honest_fairness where policy = 'popularity_mean_watch'
    union all select 'creator_gini_treatment', gini_exposed from honest_fairness where policy = 'svd'
    union all select 'long_tail_share_control', long_tail_share from honest_fairness where policy = 'popularity_mean_watch'
    union all select 'long_tail_share_treatment', long_tail_share from honest_fairness where policy = 'svd'

)

select
    cast(reproduced.figure as {{ dbt.type_string() }}) as figure,
    cast(reproduced.seed_value as double) as seed_value,
    cast(reproduced.warehouse_value as double) as warehouse_value,
    cast(reproduced.matches as boolean) as matches,
    cast(honest.honest_value as double) as honest_value,
    cast(reproduced.note as {{ dbt.type_string() }}) as note
from reproduced
left join honest on honest.figure = reproduced.figure
