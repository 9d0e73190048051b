-- Uplift by topic segment: does the treatment feed win on every topic, or only on a few?
--
-- Per experiment × arm × topic of the served video: served views, mean watch time per served view, and the
-- absolute and relative lift of that mean over the experiment's control arm on the same topic.
-- Reads fct_outcomes (one simulated or observed outcome per served video) joined with stg_items for the topic.
-- Descriptive only: the topic mix of a feed is itself an effect of the policy, per-view means weight heavy users
-- more, and there is no interval here (fct_ab_results has the per-user tests). Topics the control arm never
-- served have no lift. MovieLens has no watch time (its outcomes are replayed clicks): the watch-time columns are
-- null there and click_rate carries the signal.
--
-- Run: dbt compile -s uplift_by_topic
--      duckdb -readonly warehouse/synthetic.duckdb < target/compiled/feedlab/analyses/uplift_by_topic.sql

with outcomes as (

    select
        outcomes.experiment_id,
        outcomes.arm,
        outcomes.policy,
        items.topic_id,
        items.topic_name,
        outcomes.watch_time_s,
        outcomes.completion_rate,
        cast(outcomes.is_click as integer) as is_click
    from {{ ref('fct_outcomes') }} as outcomes
    inner join {{ ref('stg_items') }} as items on items.item_id = outcomes.item_id

),

per_segment as (

    select
        experiment_id,
        arm,
        policy,
        topic_id,
        topic_name,
        count(*) as n_views,
        {{ exact_avg("watch_time_s") }} as mean_watch_time_s,
        {{ exact_avg("completion_rate") }} as mean_completion_rate,
        {{ exact_avg("is_click") }} as click_rate
    from outcomes
    group by experiment_id, arm, policy, topic_id, topic_name

),

control as (

    select experiment_id, topic_id, n_views as control_views, mean_watch_time_s as control_watch_time_s
    from per_segment
    where arm = 'control'

)

select
    per_segment.experiment_id,
    per_segment.arm,
    per_segment.policy,
    per_segment.topic_name,
    per_segment.n_views,
    per_segment.mean_watch_time_s,
    per_segment.mean_completion_rate,
    per_segment.click_rate,
    control.control_views,
    control.control_watch_time_s,
    per_segment.mean_watch_time_s - control.control_watch_time_s as watch_time_lift_s,
    case
        when control.control_watch_time_s > 0
            then per_segment.mean_watch_time_s / control.control_watch_time_s - 1
    end as watch_time_relative_lift
from per_segment
left join control
    on control.experiment_id = per_segment.experiment_id
    and control.topic_id = per_segment.topic_id
order by per_segment.experiment_id, per_segment.topic_id, per_segment.arm
