-- The creators a feed can expose: those with at least one servable item (int_servable_items). They are the "all
-- creators" of the fairness marts; a creator without a servable item cannot be starved by any policy, so counting
-- it would only lower every policy's coverage alike.
with creators as (

    select * from {{ ref('stg_creators') }}

),

servable_creators as (

    select distinct items.creator_id
    from {{ ref('stg_items') }} as items
    inner join {{ ref('int_servable_items') }} as servable
        on servable.item_id = items.item_id

)

select creators.creator_id
from creators
inner join servable_creators
    on servable_creators.creator_id = creators.creator_id
