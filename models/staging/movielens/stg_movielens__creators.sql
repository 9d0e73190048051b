-- MovieLens has no creators: the documented stand-in is the release year (one "creator" per year, 0 = unknown).
-- topic_id is the year's genre only when all of that year's movies share their first genre, else null.
with items as (

    select
        coalesce(release_year, 0) as creator_id,
        topic_id
    from {{ python_output('ml_items') }}

),

years as (

    select
        creator_id,
        case when count(distinct topic_id) = 1 then min(topic_id) end as topic_id
    from items
    group by creator_id

)

select
    cast(creator_id as bigint)                          as creator_id,
    cast(
        case
            when creator_id = 0 then 'Release year unknown'
            else {{ dbt.concat(["'Released '", "cast(creator_id as " ~ dbt.type_string() ~ ")"]) }}
        end as {{ dbt.type_string() }}
    )                                                   as creator_name,
    cast(topic_id as integer)                           as topic_id
from years
