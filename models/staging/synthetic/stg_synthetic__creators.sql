with creators as (

    select * from {{ python_output('sim_creators') }}

)

select
    cast(creator_id as bigint)                                  as creator_id,
    {{ dbt.concat(["'creator '", "cast(creator_id as " ~ dbt.type_string() ~ ")"]) }} as creator_name,
    cast(topic_id as integer)                                   as topic_id
from creators
