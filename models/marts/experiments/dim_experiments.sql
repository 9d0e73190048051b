-- One row per experiment arm, with the bucket range [bucket_start, bucket_end) of 10,000 hash buckets it owns.
-- Arms are laid out control first, then by name, so adding an arm never reshuffles the control's users.
-- Experiments limited to other data sets (column `datasets`), or with an arm whose policy this build does not serve
-- (var python_policies leaves some out, e.g. the two-towers at 100×), are left out: no arm without users' feeds.
with registry as (

    select * from {{ ref('experiments') }}
    where datasets is null
        or {{ dbt.position("'|" ~ feedlab_dataset() ~ "|'", dbt.concat(["'|'", "datasets", "'|'"])) }} > 0

),

served_experiments as (

    select * from registry
    where experiment_id not in (
        select experiment_id from registry
        where policy not in ('{{ served_policies() | join("', '") }}')
    )

),

ordered as (

    select
        *,
        sum(traffic_share) over (
            partition by experiment_id
            order by case when arm = 'control' then 0 else 1 end, arm
            rows between unbounded preceding and current row
        ) as cumulative_share,
        sum(traffic_share) over (partition by experiment_id) as total_share,
        count(*) over (partition by experiment_id) as n_arms
    from served_experiments

)

select
    experiment_id,
    description,
    arm,
    policy,
    traffic_share,
    salt,
    n_arms,
    cast(round((cumulative_share - traffic_share) * {{ assignment_buckets() }}) as integer) as bucket_start,
    cast(round(cumulative_share * {{ assignment_buckets() }}) as integer) as bucket_end,
    total_share
from ordered
