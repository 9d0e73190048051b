-- The served feeds: for each experiment, each assigned user sees the top serve_k items of their arm's policy.
with assignments as (

    select * from {{ ref('dim_assignments') }}

),

recommendations as (

    select * from {{ ref('fct_recommendations') }} where rank <= {{ var('serve_k') }}

),

items as (

    select item_id, creator_id from {{ ref('stg_items') }}

)

select
    assignments.experiment_id,
    assignments.arm,
    assignments.policy,
    assignments.user_id,
    recommendations.item_id,
    items.creator_id,
    recommendations.rank as position
from assignments
inner join recommendations
    on recommendations.policy = assignments.policy and recommendations.user_id = assignments.user_id
inner join items on items.item_id = recommendations.item_id
