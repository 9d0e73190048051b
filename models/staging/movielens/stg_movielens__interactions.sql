-- MovieLens ratings in the unified interaction shape: a rating is the only signal (watch columns are null), and
-- the creator stand-in is the movie's release year (0 when unknown).
with ratings as (

    select * from {{ python_output('ml_ratings') }}

),

items as (

    select * from {{ python_output('ml_items') }}

)

select
    cast(row_number() over (order by ratings.rated_at, ratings.user_id, ratings.item_id) - 1 as bigint)
                                                        as interaction_id,
    cast(ratings.user_id as bigint)                     as user_id,
    cast(ratings.item_id as bigint)                     as item_id,
    cast(coalesce(items.release_year, 0) as bigint)     as creator_id,
    cast(items.topic_id as integer)                     as topic_id,
    cast(ratings.rated_at as timestamp)                 as event_at,
    cast(null as double)                                as watch_time_s,
    cast(null as double)                                as item_length_s,
    cast(null as double)                                as completion_rate,
    cast(null as double)                                as watch_ratio,
    cast(null as double)                                as watch_ratio_raw,
    cast(null as boolean)                               as is_like,
    cast(null as boolean)                               as is_share,
    cast(null as boolean)                               as is_follow,
    cast(ratings.rating as double)                      as rating
from ratings
left join items
    on ratings.item_id = items.item_id
