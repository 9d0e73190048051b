-- Creator fairness of every policy's feed at K = 10 and K = var top_k: one row per policy × K.
with exposure as (

    select * from {{ ref('fct_creator_exposure') }}

),

servable_items as (

    -- the catalogue policies rank (all items, or KuaiRec's small matrix under big_to_small)
    select * from {{ ref('int_servable_items') }}

),

-- the seed measures Gini and long-tail share over creators that received exposure
exposed as (

    select * from exposure where exposures > 0

),

catalog as (

    select count(*) as n_items_catalog from servable_items

),

counts as (

    select
        policy,
        k,
        count(*) as n_creators,
        sum(case when exposures > 0 then 1 else 0 end) as n_creators_exposed,
        sum(exposures) as total_exposures,
        sum(n_items_exposed) as n_items_recommended
    from exposure
    group by policy, k

),

exposed_concentration as (

    {{ exposure_concentration('exposed', 'exposures', ['policy', 'k']) }}

),

all_creators_concentration as (

    {{ exposure_concentration('exposure', 'exposures', ['policy', 'k']) }}

),

entropy as (

    {{ exposure_entropy('exposure', 'exposures', ['policy', 'k']) }}

),

final as (

    select
        counts.policy,
        counts.k,
        counts.n_creators,
        counts.n_creators_exposed,
        counts.total_exposures,
        counts.n_items_recommended,
        catalog.n_items_catalog,
        exposed_concentration.gini as gini_exposed,
        all_creators_concentration.gini as gini_all_creators,
        exposed_concentration.long_tail_share,
        exposed_concentration.long_tail_threshold,
        cast(counts.n_creators_exposed as double) / nullif(counts.n_creators, 0) as creator_coverage,
        cast(counts.n_items_recommended as double) / nullif(catalog.n_items_catalog, 0) as item_coverage,
        entropy.entropy_normalized as exposure_entropy,
        entropy.entropy_nats as exposure_entropy_nats
    from counts
    cross join catalog
    left join exposed_concentration
        on counts.policy = exposed_concentration.policy and counts.k = exposed_concentration.k
    left join all_creators_concentration
        on counts.policy = all_creators_concentration.policy and counts.k = all_creators_concentration.k
    left join entropy
        on counts.policy = entropy.policy and counts.k = entropy.k

)

select
    cast(policy as {{ dbt.type_string() }}) as policy,
    cast(k as integer) as k,
    cast(n_creators as bigint) as n_creators,
    cast(n_creators_exposed as bigint) as n_creators_exposed,
    cast(total_exposures as bigint) as total_exposures,
    cast(n_items_recommended as bigint) as n_items_recommended,
    cast(n_items_catalog as bigint) as n_items_catalog,
    cast(gini_exposed as double) as gini_exposed,
    cast(gini_all_creators as double) as gini_all_creators,
    cast(long_tail_share as double) as long_tail_share,
    cast(long_tail_threshold as double) as long_tail_threshold,
    cast(creator_coverage as double) as creator_coverage,
    cast(item_coverage as double) as item_coverage,
    cast(exposure_entropy as double) as exposure_entropy,
    cast(exposure_entropy_nats as double) as exposure_entropy_nats
from final
