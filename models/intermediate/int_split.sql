-- Per-user leave-last-out: each user's latest interaction (ties broken by interaction_id) is the test event;
-- users with a single interaction stay in training only.
with interactions as (

    select * from {{ ref('int_engagement') }}

),

ranked as (

    select
        *,
        row_number() over (partition by user_id order by event_at desc, interaction_id desc) as recency_rank,
        count(*) over (partition by user_id) as n_user_interactions
    from interactions

)

select
    interaction_id,
    user_id,
    item_id,
    creator_id,
    topic_id,
    event_at,
    watch_time_s,
    item_length_s,
    completion_rate,
    watch_ratio,
    is_like,
    is_share,
    is_follow,
    rating,
    engagement_score,
    case when recency_rank = 1 and n_user_interactions >= 2 then 'test' else 'train' end as split
from ranked
