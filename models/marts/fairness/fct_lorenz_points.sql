-- Lorenz curve of creator exposure per policy × K over all creators (zero-exposure creators included), for BI:
-- creators sorted by exposure ascending (ties by creator_id); point i is (i / n, exposure of the i least-exposed
-- creators / total exposure), from (0, 0) to (1, 1).
with exposure as (

    select * from {{ ref('fct_creator_exposure') }}

),

ranked as (

    select
        policy,
        k,
        creator_id,
        exposures,
        row_number() over (partition by policy, k order by exposures, creator_id) as point_index,
        count(*) over (partition by policy, k) as n_creators,
        sum(exposures) over (
            partition by policy, k order by exposures, creator_id rows between unbounded preceding and current row
        ) as cumulative_exposures,
        sum(exposures) over (partition by policy, k) as total_exposures
    from exposure

),

origin as (

    select distinct
        policy,
        k,
        0 as point_index,
        cast(null as bigint) as creator_id,
        cast(0 as bigint) as exposures,
        cast(0.0 as double) as cumulative_creator_share,
        cast(0.0 as double) as cumulative_exposure_share
    from exposure

),

points as (

    select
        policy,
        k,
        point_index,
        creator_id,
        exposures,
        cast(point_index as double) / n_creators as cumulative_creator_share,
        cast(cumulative_exposures as double) / nullif(total_exposures, 0) as cumulative_exposure_share
    from ranked

),

final as (

    select * from origin
    union all
    select * from points

)

select
    cast(policy as {{ dbt.type_string() }}) as policy,
    cast(k as integer) as k,
    cast(point_index as bigint) as point_index,
    cast(creator_id as bigint) as creator_id,
    cast(exposures as bigint) as exposures,
    cast(cumulative_creator_share as double) as cumulative_creator_share,
    cast(cumulative_exposure_share as double) as cumulative_exposure_share
from final
