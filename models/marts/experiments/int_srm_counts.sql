-- Users per experiment arm at two points of the funnel, against the share the registry promised: assigned (hash
-- buckets) and exposed (actually served a feed). A gap between them, or between either and the expected share, is a
-- sample-ratio mismatch.
with experiments as (

    select * from {{ ref('dim_experiments') }}

),

assigned as (

    select experiment_id, arm, count(*) as n_assigned from {{ ref('dim_assignments') }} group by experiment_id, arm

),

exposed as (

    select experiment_id, arm, count(distinct user_id) as n_exposed from {{ ref('fct_exposures') }} group by experiment_id, arm

)

select
    experiments.experiment_id,
    experiments.arm,
    experiments.traffic_share / experiments.total_share as expected_share,
    coalesce(assigned.n_assigned, 0) as n_assigned,
    coalesce(exposed.n_exposed, 0) as n_exposed
from experiments
left join assigned on assigned.experiment_id = experiments.experiment_id and assigned.arm = experiments.arm
left join exposed on exposed.experiment_id = experiments.experiment_id and exposed.arm = experiments.arm
