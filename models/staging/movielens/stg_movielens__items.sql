-- MovieLens movies in the unified item shape: topic = first genre, creator stand-in = release year (0 = unknown).
with items as (

    select * from {{ python_output('ml_items') }}

)

select
    cast(item_id as bigint)                             as item_id,
    cast(coalesce(release_year, 0) as bigint)           as creator_id,
    cast(topic_id as integer)                           as topic_id,
    cast(topic_name as {{ dbt.type_string() }})         as topic_name,
    cast(null as double)                                as item_length_s,
    cast(title as {{ dbt.type_string() }})              as title,
    cast(release_year as integer)                       as release_year
from items
