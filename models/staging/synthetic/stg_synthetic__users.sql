with preferences as (

    select distinct user_id from {{ ref('sim_user_preferences') }}

)

select
    cast(user_id as bigint)             as user_id,
    cast(null as integer)               as age,
    cast(null as varchar)               as gender,
    cast(null as varchar)               as occupation
from preferences
