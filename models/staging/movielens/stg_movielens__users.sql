-- MovieLens users in the unified user shape (u.user's demographics; zip code is not carried).
with users as (

    select * from {{ python_output('ml_users') }}

)

select
    cast(user_id as bigint)                             as user_id,
    cast(age as integer)                                as age,
    cast(gender as {{ dbt.type_string() }})             as gender,
    cast(occupation as {{ dbt.type_string() }})         as occupation
from users
