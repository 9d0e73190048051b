with interactions as (

    select * from {{ python_output('sim_interactions') }}

)

select
    cast(interaction_id as bigint)      as interaction_id,
    cast(user_id as bigint)             as user_id,
    cast(video_id as bigint)            as item_id,
    cast(creator_id as bigint)          as creator_id,
    cast(topic_id as integer)           as topic_id,
    cast(event_at as timestamp)         as event_at,
    cast(watch_time_s as double)        as watch_time_s,
    cast(video_length_s as double)      as item_length_s,
    cast(completion_rate as double)     as completion_rate,
    cast(completion_rate as double)     as watch_ratio,
    cast(completion_rate as double)     as watch_ratio_raw,
    cast(is_like as boolean)            as is_like,
    cast(is_share as boolean)           as is_share,
    cast(is_follow as boolean)          as is_follow,
    cast(null as double)                as rating
from interactions
