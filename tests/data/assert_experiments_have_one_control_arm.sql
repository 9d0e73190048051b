-- Every experiment of the registry has exactly one arm named control: each other arm is compared with it
-- (feedlab.ab_stats), and the assignment cuts the buckets control first. Returns the experiments that do not.
select experiment_id, count(*) as n_arms
from {{ ref('experiments') }}
group by experiment_id
having sum(case when arm = 'control' then 1 else 0 end) <> 1
