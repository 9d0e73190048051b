-- Creator fairness of each experiment arm's served feeds (fct_exposures): one row per experiment × arm, the same
-- figures as fct_fairness computes per policy (macro creator_fairness), so that an experiment reads whether its
-- treatment starves creators beside whether it lifts engagement.
with arms as (

    select experiment_id, arm, policy from {{ ref('dim_experiments') }}

),

exposures as (

    select * from {{ ref('fct_exposures') }}

),

creators as (

    select * from {{ ref('int_catalog_creators') }}

),

servable_items as (

    select * from {{ ref('int_servable_items') }}

),

creator_slots as (

    select
        experiment_id,
        arm,
        creator_id,
        count(*) as exposures,
        count(distinct item_id) as n_items_exposed
    from exposures
    group by experiment_id, arm, creator_id

),

-- every creator for every arm, 0 where the arm never served it, so the all-creator figures see starved creators
creator_exposure as (

    select
        cast(arms.experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(arms.arm as {{ dbt.type_string() }}) as arm,
        cast(arms.policy as {{ dbt.type_string() }}) as policy,
        creators.creator_id,
        coalesce(creator_slots.exposures, 0) as exposures,
        coalesce(creator_slots.n_items_exposed, 0) as n_items_exposed
    from arms
    cross join creators
    left join creator_slots
        on creator_slots.experiment_id = arms.experiment_id
        and creator_slots.arm = arms.arm
        and creator_slots.creator_id = creators.creator_id

),

fairness as (

    -- policy is one per experiment × arm: grouping by it only carries it along
    {{ creator_fairness('creator_exposure', ['experiment_id', 'arm', 'policy'], 'servable_items') }}

)

select * from fairness
