-- KuaiRec interactions in the unified interaction shape plus the matrix each came from (source_matrix: small or
-- big), read by stg_kuairec__interactions (the unified shape) and stg_kuairec__interaction_sources (the matrix of
-- each interaction_id, for the big-to-small protocol). Rows of kr_interactions without any event time are
-- dropped here (their count is reported by the warn test on kr_interactions.event_at). watch_ratio_raw is the
-- file's value, watch_ratio caps it at var kuairec_watch_ratio_cap, completion_rate caps it at 1, and
-- is_like = raw ratio > 2 (the KuaiRec authors' suggestion). A zero video_duration gives a null item length.
with interactions as (

    select * from {{ python_output('kr_interactions') }}
    where event_at is not null

),

items as (

    select * from {{ python_output('kr_items') }}

)

select
    cast(row_number() over (
        order by interactions.event_at, interactions.user_id, interactions.video_id,
                 interactions.source_matrix, interactions.play_duration_ms, interactions.video_duration_ms,
                 interactions.watch_ratio
    ) - 1 as bigint)                                                        as interaction_id,
    cast(interactions.user_id as bigint)                                    as user_id,
    cast(interactions.video_id as bigint)                                   as item_id,
    cast({{ kuairec_creator_id('items.creator_id', 'interactions.video_id') }} as bigint)
                                                                            as creator_id,
    cast(items.topic_id as integer)                                         as topic_id,
    cast(interactions.event_at as timestamp)                                as event_at,
    cast(interactions.play_duration_ms / 1000.0 as double)                  as watch_time_s,
    cast(case when interactions.video_duration_ms > 0
              then interactions.video_duration_ms / 1000.0 end as double)   as item_length_s,
    -- least() skips nulls on most engines, so a null ratio is kept null explicitly.
    cast(case when interactions.watch_ratio is not null
              then least(interactions.watch_ratio, 1.0) end as double)      as completion_rate,
    cast(case when interactions.watch_ratio is not null
              then least(interactions.watch_ratio, {{ var('kuairec_watch_ratio_cap') }}) end as double)
                                                                            as watch_ratio,
    cast(interactions.watch_ratio as double)                                as watch_ratio_raw,
    cast(interactions.watch_ratio > 2.0 as boolean)                         as is_like,
    cast(null as boolean)                                                   as is_share,
    cast(null as boolean)                                                   as is_follow,
    cast(null as double)                                                    as rating,
    cast(interactions.source_matrix as {{ dbt.type_string() }})             as source_matrix
from interactions
left join items
    on interactions.video_id = items.video_id
