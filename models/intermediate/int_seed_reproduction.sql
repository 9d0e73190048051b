-- The seed notebook's figures (TikTok.ipynb) recomputed on the warehouse's seed-compat world, one row per figure it
-- printed (seed_compat only; fct_seed_reproduction sets them beside the printed values). The feeds and the split
-- come from int_seed_feeds; the rest is the notebook's analysis: per user, the mean of the user's logged watch times
-- (every view, repeats included) on videos of the user's feed, users without one left out (nanmean); per arm, the
-- mean over users; uplift in %; Student's two-sample t-test (pooled variance, as scipy's ttest_ind); creator
-- exposure = slots per creator over the arm's feeds (creators with at least one), its Gini and long-tail share.
-- In-sample and biased: reproduced, not endorsed. (User 42's SVD top-5, the notebook's other figure, is no part of
-- its A/B or fairness analysis: fct_seed_reproduction reads it from int_seed_svd_feeds.)
-- int_seed_feeds is imported twice, each CTE used once: DuckDB inlines a CTE used once (its scan joins and
-- aggregates directly) and materializes one used twice, which costs this small model a sixth of its time.
with feed_slots as (

    select arm, user_id, item_id from {{ ref('int_seed_feeds') }}

),

feed_creators as (

    select arm, creator_id from {{ ref('int_seed_feeds') }}

),

interactions as (

    select * from {{ ref('stg_interactions') }}

),

user_watch_time as (

    select
        feed_slots.arm,
        feed_slots.user_id,
        {{ exact_avg("interactions.watch_time_s") }} as watch_time_s
    from feed_slots
    inner join interactions
        on interactions.user_id = feed_slots.user_id
        and interactions.item_id = feed_slots.item_id
    group by feed_slots.arm, feed_slots.user_id

),

arm_moments as (

    select
        arm,
        cast(count(*) as double) as n_users,
        {{ exact_avg("watch_time_s") }} as mean_watch_time_s,
        {{ exact_var_samp("watch_time_s") }} as variance_watch_time_s
    from user_watch_time
    group by arm

),

arm_summaries as (

    -- the two arms' rows side by side (one row)
    select
        max(case when arm = 'control' then n_users end) as n_control,
        max(case when arm = 'treatment' then n_users end) as n_treatment,
        max(case when arm = 'control' then mean_watch_time_s end) as mean_control,
        max(case when arm = 'treatment' then mean_watch_time_s end) as mean_treatment,
        max(case when arm = 'control' then variance_watch_time_s end) as variance_control,
        max(case when arm = 'treatment' then variance_watch_time_s end) as variance_treatment
    from arm_moments

),

t_test as (

    -- Student's t of treatment - control with the pooled variance (equal variances, as the seed's ttest_ind)
    select
        mean_control,
        mean_treatment,
        (mean_treatment - mean_control)
            / sqrt(
                ((n_control - 1) * variance_control + (n_treatment - 1) * variance_treatment)
                / (n_control + n_treatment - 2)
                * (1 / n_control + 1 / n_treatment)
            ) as t_statistic,
        n_control + n_treatment - 2 as df
    from arm_summaries

),

t_test_p_value as (

    {{ student_t_p_value('t_test', 't_statistic', 'df') }}

),

ab_figures as (

    select
        mean_control,
        mean_treatment,
        100 * (mean_treatment - mean_control) / mean_control as uplift_pct,
        p_value
    from t_test_p_value

),

exposure as (

    select arm, creator_id, count(*) as slots
    from feed_creators
    group by arm, creator_id

),

creator_concentration as (

    {{ exposure_concentration('exposure', 'slots', ['arm']) }}

),

reproduced as (

    -- ab_figures' one row as four, by a cross join with the names: a CTE read once is inlined, one read four times
    -- is materialized first
    select
        figure_names.figure,
        case figure_names.figure
            when 'control_watch_time_s' then ab_figures.mean_control
            when 'treatment_watch_time_s' then ab_figures.mean_treatment
            when 'uplift_pct' then ab_figures.uplift_pct
            else ab_figures.p_value
        end as warehouse_value
    from ab_figures
    cross join (
        values ('control_watch_time_s'), ('treatment_watch_time_s'), ('uplift_pct'), ('p_value')
    ) as figure_names (figure)
    union all select {{ dbt.concat(["'creator_gini_'", 'arm']) }}, gini from creator_concentration
    union all select {{ dbt.concat(["'long_tail_share_'", 'arm']) }}, long_tail_share from creator_concentration

)

select figure, cast(warehouse_value as double) as warehouse_value
from reproduced
