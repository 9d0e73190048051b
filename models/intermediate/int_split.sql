-- leave_last_out (every data set by default): per user, the latest interaction (ties broken by interaction_id) is
-- the test event; users with a single interaction stay in training only.
-- big_to_small (KuaiRec, var kuairec_protocol): big-matrix interactions are training; small-matrix interactions
-- are held out, 'test' where relevant (is_like: watch_ratio > 2, the KuaiRec authors' signal) and 'holdout'
-- otherwise (observed, never trained on, not relevant). No test event ever reaches a model: they read 'train'.
with interactions as (

    select * from {{ ref('int_engagement') }}

),

{% if kuairec_protocol() == 'big_to_small' %}
sources as (

    select * from {{ ref('stg_kuairec__interaction_sources') }}

)

select
    interactions.*,
    case
        when sources.source_matrix = 'big' then 'train'
        when interactions.is_like then 'test'
        else 'holdout'
    end as split
from interactions
inner join sources on sources.interaction_id = interactions.interaction_id
{% else %}
ranked as (

    select
        interaction_id,
        row_number() over (partition by user_id order by event_at desc, interaction_id desc) as recency_rank,
        count(*) over (partition by user_id) as n_user_interactions
    from interactions

)

select
    interactions.*,
    case when ranked.recency_rank = 1 and ranked.n_user_interactions >= 2 then 'test' else 'train' end as split
from interactions
inner join ranked on ranked.interaction_id = interactions.interaction_id
{% endif %}
