-- leave_last_out (every data set by default): per user, the latest interaction (ties broken by interaction_id) is
-- the test event; users with a single interaction stay in training only.
-- temporal (var split_protocol): one cut in time for everyone. The cut is the event time of the interaction at
-- rank (1 - temporal_test_share) * n in time order; interactions after it are held out: 'test' for users with
-- training rows, 'holdout' for users first seen after the cut (nothing to rank them from). Ties on the cut's time
-- stay in training.
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
{% elif var('split_protocol') == 'temporal' %}
in_time_order as (

    select
        event_at,
        row_number() over (order by event_at, interaction_id) as time_rank,
        count(*) over () as n_interactions
    from interactions

),

cut as (

    select max(event_at) as cut_at
    from in_time_order
    where time_rank <= greatest(1, floor(n_interactions * (1 - {{ var('temporal_test_share') }})))

),

trained_users as (

    select distinct interactions.user_id
    from interactions
    cross join cut
    where interactions.event_at <= cut.cut_at

)

select
    interactions.*,
    case
        when interactions.event_at <= cut.cut_at then 'train'
        when trained_users.user_id is not null then 'test'
        else 'holdout'
    end as split
from interactions
cross join cut
left join trained_users on trained_users.user_id = interactions.user_id
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
