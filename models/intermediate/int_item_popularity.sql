-- Popularity of every catalog item, measured on the training split only so no test event leaks into a policy.
with items as (

    select item_id from {{ ref('stg_items') }}

),

train as (

    select * from {{ ref('int_split') }} where split = 'train'

),

item_stats as (

    select
        item_id,
        count(*) as n_interactions,
        count(distinct user_id) as n_users,
        {{ exact_avg("engagement_score") }} as mean_engagement,
        {{ exact_avg("watch_time_s") }} as mean_watch_time_s,
        {{ exact_avg("rating") }} as mean_rating
    from train
    group by item_id

),

joined as (

    select
        items.item_id,
        coalesce(item_stats.n_interactions, 0) as n_interactions,
        coalesce(item_stats.n_users, 0) as n_users,
        item_stats.mean_engagement,
        item_stats.mean_watch_time_s,
        item_stats.mean_rating
    from items
    left join item_stats on items.item_id = item_stats.item_id

)

select
    *,
    row_number() over (order by n_interactions desc, item_id) as popularity_rank,
    row_number() over (order by coalesce(mean_engagement, -1) desc, item_id) as engagement_rank
from joined
