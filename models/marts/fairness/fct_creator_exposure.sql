-- Creator exposure per policy × K × creator: how many feed slots at rank <= K went to each creator's items.
-- Every creator with a servable item appears (int_catalog_creators), with 0 when a policy never served it, so
-- fairness over all creators is computable. K levels: see the fairness_k_levels macro (10 and
-- var top_k).
with recommendations as (

    select * from {{ ref('fct_recommendations') }}

),

items as (

    select * from {{ ref('stg_items') }}

),

creators as (

    select * from {{ ref('int_catalog_creators') }}

),

k_levels as (

    select k from {{ fairness_k_levels_relation() }} as levels

),

policies as (

    select distinct policy from recommendations

),

-- exposures per item first, so that the number of distinct items per creator needs no count(distinct)
item_exposures as (

    select
        recommendations.policy,
        k_levels.k,
        recommendations.item_id,
        count(*) as exposures
    from recommendations
    inner join k_levels
        on recommendations.rank <= k_levels.k
    group by recommendations.policy, k_levels.k, recommendations.item_id

),

creator_exposures as (

    select
        item_exposures.policy,
        item_exposures.k,
        items.creator_id,
        sum(item_exposures.exposures) as exposures,
        count(*) as n_items_exposed
    from item_exposures
    inner join items
        on item_exposures.item_id = items.item_id
    group by item_exposures.policy, item_exposures.k, items.creator_id

),

grid as (

    select
        policies.policy,
        k_levels.k,
        creators.creator_id
    from policies
    cross join k_levels
    cross join creators

),

final as (

    select
        grid.policy,
        grid.k,
        grid.creator_id,
        coalesce(creator_exposures.exposures, 0) as exposures,
        coalesce(creator_exposures.n_items_exposed, 0) as n_items_exposed
    from grid
    left join creator_exposures
        on grid.policy = creator_exposures.policy
        and grid.k = creator_exposures.k
        and grid.creator_id = creator_exposures.creator_id

)

select
    cast(policy as {{ dbt.type_string() }}) as policy,
    cast(k as integer) as k,
    cast(creator_id as bigint) as creator_id,
    cast(exposures as bigint) as exposures,
    cast(n_items_exposed as bigint) as n_items_exposed,
    cast(exposures as double) / nullif(sum(exposures) over (partition by policy, k), 0) as exposure_share
from final
