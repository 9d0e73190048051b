-- Per-user leave-last-out: each user's latest interaction (ties broken by interaction_id) is the test event;
-- users with a single interaction stay in training only.
with interactions as (

    select * from {{ ref('int_engagement') }}

),

ranked as (

    select
        interaction_id,
        row_number() over (partition by user_id order by event_at desc, interaction_id desc) as recency_rank,
        count(*) over (partition by user_id) as n_user_interactions
    from interactions

)

select
    interactions.*,
    case when ranked.recency_rank = 1 and ranked.n_user_interactions >= 2 then 'test' else 'train' end as split
from interactions
inner join ranked on ranked.interaction_id = interactions.interaction_id
