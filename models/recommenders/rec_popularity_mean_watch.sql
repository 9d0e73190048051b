{{ config(enabled=var('dataset') != 'movielens') }}
-- The seed notebook's baseline: videos ranked by mean watch time, the very same list for every user
-- (seen videos are not removed: the seed measures watch time on recommended videos the user already watched).
with ranking as (

    select
        item_id,
        row_number() over (order by mean_watch_time_s desc, item_id) as item_rank,
        mean_watch_time_s as score
    from {{ ref('int_item_popularity') }}
    where mean_watch_time_s is not null

)

{{ top_k_by_global_rank('popularity_mean_watch', 'ranking', exclude_seen=false) }}
