-- KuaiRec users in the unified user shape: every user with an interaction; user_features.csv is not read, so
-- the demographic columns are null.
with users as (

    select distinct user_id from {{ python_output('kr_interactions') }}

)

select
    cast(user_id as bigint)                             as user_id,
    cast(null as integer)                               as age,
    cast(null as {{ dbt.type_string() }})               as gender,
    cast(null as {{ dbt.type_string() }})               as occupation
from users
