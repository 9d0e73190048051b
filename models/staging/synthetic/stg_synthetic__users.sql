with preferences as (

    select distinct user_id from {{ python_output('sim_user_preferences') }}

)

select
    cast(user_id as bigint)             as user_id,
    cast(null as integer)               as age,
    cast(null as {{ dbt.type_string() }})               as gender,
    cast(null as {{ dbt.type_string() }})               as occupation
from preferences
