with videos as (

    select * from {{ python_output('sim_videos') }}

)

select
    cast(video_id as bigint)            as item_id,
    cast(creator_id as bigint)          as creator_id,
    cast(topic_id as integer)           as topic_id,
    cast(topic_name as {{ dbt.type_string() }})         as topic_name,
    cast(video_length_s as double)      as item_length_s,
    cast(null as {{ dbt.type_string() }})               as title,
    cast(null as integer)               as release_year
from videos
