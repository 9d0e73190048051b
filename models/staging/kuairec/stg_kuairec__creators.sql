-- KuaiRec creators in the unified creator shape: authors (item_daily_features.csv) named 'author <id>', and
-- video stand-ins named 'video <video_id>' (creator_id -(video_id + 1): every video without a known author).
-- topic_id is the creator's topic when all its videos share their first tag, else null. Must cover every
-- creator_id of stg_kuairec__items.
with items as (

    select
        cast({{ kuairec_creator_id('kr_items.creator_id', 'videos.video_id') }} as bigint) as creator_id,
        coalesce(kr_items.creator_kind, 'video')                       as creator_kind,
        coalesce(kr_items.author_id, videos.video_id)                  as name_id,
        kr_items.topic_id
    from (
        select video_id from {{ python_output('kr_items') }}
        union
        select video_id from {{ python_output('kr_interactions') }}
    ) as videos
    left join {{ python_output('kr_items') }} as kr_items
        on videos.video_id = kr_items.video_id

),

creators as (

    select
        creator_id,
        min(creator_kind)                                               as creator_kind,
        min(name_id)                                                    as name_id,
        case when count(distinct topic_id) = 1 then min(topic_id) end   as topic_id
    from items
    group by creator_id

)

select
    cast(creator_id as bigint)                                          as creator_id,
    cast(
        {{ dbt.concat(["creator_kind", "' '", "cast(name_id as " ~ dbt.type_string() ~ ")"]) }}
        as {{ dbt.type_string() }}
    )                                                                   as creator_name,
    cast(topic_id as integer)                                           as topic_id
from creators
