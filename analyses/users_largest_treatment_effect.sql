-- Users with the largest treatment effect: in each experiment, which treated users moved most from their own
-- pre-period, beyond what the control arm moved?
--
-- fct_ab_user_metrics holds, per experiment × user, the engagement over the served feed and the user's mean
-- engagement before the experiment (pre_engagement, the CUPED covariate). A user's change is engagement −
-- pre_engagement; the control arm's mean change is what the experiment period does without the treatment, so
-- excess_change = user's change − control arm's mean change (a difference in differences). The 20 treated users
-- with the largest excess change per experiment and treatment arm, with their rank.
-- Caveat: one user's effect is not identified (no user is seen in both arms); this ranks candidates for a closer
-- look (segments, topics), it is not a per-user causal estimate, and the top of any noisy ranking regresses to the
-- mean.
--
-- Run: dbt compile -s users_largest_treatment_effect
--      duckdb -readonly warehouse/synthetic.duckdb < target/compiled/feedlab/analyses/users_largest_treatment_effect.sql

with users as (

    select
        experiment_id,
        arm,
        policy,
        user_id,
        n_exposures,
        engagement,
        pre_engagement,
        watch_time_per_video,
        engagement - pre_engagement as engagement_change
    from {{ ref('fct_ab_user_metrics') }}
    where engagement is not null

),

control_change as (

    select experiment_id, {{ exact_avg("engagement_change") }} as control_mean_change, count(*) as control_users
    from users
    where arm = 'control'
    group by experiment_id

),

treated as (

    select
        users.*,
        control_change.control_mean_change,
        users.engagement_change - control_change.control_mean_change as excess_change,
        row_number() over (
            partition by users.experiment_id, users.arm
            order by users.engagement_change - control_change.control_mean_change desc, users.user_id
        ) as effect_rank
    from users
    inner join control_change on control_change.experiment_id = users.experiment_id
    where users.arm <> 'control'

)

select
    experiment_id,
    arm,
    policy,
    effect_rank,
    user_id,
    n_exposures,
    pre_engagement,
    engagement,
    engagement_change,
    control_mean_change,
    excess_change,
    watch_time_per_video
from treated
where effect_rank <= 20
order by experiment_id, arm, effect_rank
