-- KuaiRec videos in the unified item shape: every video of item_categories.csv plus any video that only appears
-- in the interactions (topic null). topic = first tag; length = the longest non-zero video_duration seen.
with items as (

    select * from {{ python_output('kr_items') }}

),

lengths as (

    select
        video_id,
        max(case when video_duration_ms > 0 then video_duration_ms end) / 1000.0 as item_length_s
    from {{ python_output('kr_interactions') }}
    group by video_id

),

videos as (

    select video_id from items
    union
    select video_id from lengths

)

select
    cast(videos.video_id as bigint)                                         as item_id,
    cast({{ kuairec_creator_id('items.creator_id', 'videos.video_id') }} as bigint)
                                                                            as creator_id,
    cast(items.topic_id as integer)                                         as topic_id,
    cast(
        case when items.topic_id is not null
             then {{ dbt.concat(["'tag '", "cast(items.topic_id as " ~ dbt.type_string() ~ ")"]) }}
        end as {{ dbt.type_string() }}
    )                                                                       as topic_name,
    cast(lengths.item_length_s as double)                                   as item_length_s,
    cast(null as {{ dbt.type_string() }})                                   as title,
    cast(null as integer)                                                   as release_year
from videos
left join items
    on videos.video_id = items.video_id
left join lengths
    on videos.video_id = lengths.video_id
