-- What each user did in training: activity, engagement level and spread, and time span.
with train as (

    select * from {{ ref('int_split') }} where split = 'train'

),

test as (

    -- one test event per user under leave-last-out; every relevant small-matrix video under KuaiRec's big_to_small
    select
        user_id,
        case when count(*) = 1 then min(item_id) end as test_item_id,
        count(*) as n_test_interactions
    from {{ ref('int_split') }}
    where split = 'test'
    group by user_id

),

history as (

    select
        user_id,
        count(*) as n_train_interactions,
        count(distinct item_id) as n_train_items,
        {{ exact_avg("engagement_score") }} as mean_engagement,
        {{ exact_stddev_samp("engagement_score") }} as stddev_engagement,
        {{ exact_avg("watch_time_s") }} as mean_watch_time_s,
        {{ exact_avg("rating") }} as mean_rating,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at
    from train
    group by user_id

)

select
    history.*,
    test.test_item_id,
    coalesce(test.n_test_interactions, 0) as n_test_interactions
from history
left join test on history.user_id = test.user_id
