-- Daily trend of engagement: is the platform's engagement stable over the data window, or drifting (which would
-- bias a leave-last-out split and any pre/post comparison)?
--
-- int_engagement (one engagement score per logged interaction) by calendar day of event_at: interactions, active
-- users, mean engagement score, mean watch time, like rate, and a trailing 7-day mean of the daily mean
-- engagement (days with no interaction are absent, so the window covers the last 7 days that have data).
-- Logged interactions only, not the simulated A/B outcomes.
--
-- Run: dbt compile -s daily_engagement_trend
--      duckdb -readonly warehouse/synthetic.duckdb < target/compiled/feedlab/analyses/daily_engagement_trend.sql

with daily as (

    select
        cast({{ dbt.date_trunc('day', 'event_at') }} as date) as event_date,
        count(*) as n_interactions,
        count(distinct user_id) as n_active_users,
        {{ exact_avg("engagement_score") }} as mean_engagement,
        {{ exact_avg("watch_time_s") }} as mean_watch_time_s,
        {{ exact_avg("cast(is_like as integer)") }} as like_rate
    from {{ ref('int_engagement') }}
    group by 1

)

select
    event_date,
    n_interactions,
    n_active_users,
    mean_engagement,
    avg(mean_engagement) over (order by event_date rows between 6 preceding and current row)
        as mean_engagement_7d,
    mean_watch_time_s,
    like_rate
from daily
order by event_date
