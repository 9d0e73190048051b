-- One engagement score in [0, 1] per interaction. Data sets with watch signals use the weighted score
-- (engagement_score macro, watch time min-max scaled over the data set as the seed's MinMaxScaler does);
-- MovieLens, which has only ratings, scores (rating - 1) / 4.
-- Input: int_interaction_log, the interactions arrived up to var as_of_day (all of them by default).
with interactions as (

    select * from {{ ref('int_interaction_log') }}

),

normalised as (

    select
        *,
        {{ minmax_normalize('watch_time_s') }} as watch_time_norm
    from interactions

)

select
    interaction_id,
    user_id,
    item_id,
    creator_id,
    topic_id,
    event_at,
    watch_time_s,
    item_length_s,
    completion_rate,
    watch_ratio,
    is_like,
    is_share,
    is_follow,
    rating,
    watch_time_norm,
    case
        when watch_time_s is null and rating is not null then (rating - 1) / 4.0
        else {{ engagement_score('watch_time_norm', 'completion_rate', 'is_share', 'is_like') }}
    end as engagement_score
from normalised
