-- Per experiment × user: the arm and the user's outcome metrics over their served feed, plus the pre-period
-- covariate for CUPED (the user's mean engagement in training, which no arm could have influenced).
with outcomes as (

    select * from {{ ref('fct_outcomes') }}

),

history as (

    select user_id, mean_engagement from {{ ref('int_user_history') }}

),

per_user as (

    select
        experiment_id,
        arm,
        policy,
        user_id,
        count(*) as n_exposures,
        {{ exact_avg("watch_time_s") }} as watch_time_per_video,
        {{ exact_avg("completion_rate") }} as completion_rate,
        {{ exact_avg("engagement_score") }} as engagement,
        {{ exact_avg("cast(is_like as integer)") }} as like_rate,
        max(cast(is_click as integer)) as hit
    from outcomes
    group by experiment_id, arm, policy, user_id

)

select
    cast(per_user.experiment_id as {{ dbt.type_string() }}) as experiment_id,
    cast(per_user.arm as {{ dbt.type_string() }}) as arm,
    cast(per_user.policy as {{ dbt.type_string() }}) as policy,
    cast(per_user.user_id as bigint) as user_id,
    cast(per_user.n_exposures as bigint) as n_exposures,
    cast(per_user.watch_time_per_video as double) as watch_time_per_video,
    cast(per_user.completion_rate as double) as completion_rate,
    cast(per_user.engagement as double) as engagement,
    cast(per_user.like_rate as double) as like_rate,
    cast(per_user.hit as integer) as hit,
    cast(history.mean_engagement as double) as pre_engagement
from per_user
inner join history on history.user_id = per_user.user_id
