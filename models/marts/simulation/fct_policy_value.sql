-- Expected watch time of every policy's top-10 under the synthetic world's own response model, against the oracle
-- top-10 (the 10 unseen videos with the highest expected watch time). Synthetic data set only (enabled in the yml).
{%- set n_slots = [10, var('top_k') | int] | min %}
{%- set sd = var('noise_sd') | float %}
{%- set lower = 0.05 %}
{%- set upper = 1.0 %}
with recommendations as (

    select * from {{ ref('fct_recommendations') }}

),

preferences as (

    select * from {{ python_output('sim_user_preferences') }}

),

videos as (

    select * from {{ python_output('sim_videos') }}

),

train as (

    select * from {{ ref('int_split') }} where split = 'train'

),

users as (

    select user_id from {{ ref('int_user_history') }}

),

-- The response model: watch_fraction = clip(preference + N(0, sd^2), lower, upper); its expectation depends only on
-- the user's preference for the video's topic, so it is computed once per (user, topic).
standardized as (

    select
        user_id,
        topic_id,
        cast(preference as double) as preference,
        {% if sd > 0 -%}
        ({{ lower }} - cast(preference as double)) / {{ sd }} as z_lower,
        ({{ upper }} - cast(preference as double)) / {{ sd }} as z_upper
        {%- else -%}
        cast(0.0 as double) as z_lower,
        cast(0.0 as double) as z_upper
        {%- endif %}
    from preferences

),

user_topic_value as (

    select
        user_id,
        topic_id,
        {{ expected_clipped_normal('preference', sd, lower, upper, 'z_lower', 'z_upper') }} as expected_watch_fraction
    from standardized

),

policy_slots as (

    select
        recommendations.policy,
        recommendations.user_id,
        user_topic_value.expected_watch_fraction * videos.video_length_s as expected_watch_time_s
    from recommendations
    inner join videos
        on recommendations.item_id = videos.video_id
    inner join user_topic_value
        on recommendations.user_id = user_topic_value.user_id
        and videos.topic_id = user_topic_value.topic_id
    where recommendations.rank <= {{ n_slots }}

),

policy_users as (

    select
        policy,
        user_id,
        sum(expected_watch_time_s) as value_s
    from policy_slots
    group by policy, user_id

),

-- Oracle without a users × videos cross join: within a topic the expected watch time is proportional to length,
-- so a user's best unseen videos of a topic are among the topic's (n_slots + seen-in-topic) longest videos.
seen as (

    select distinct train.user_id, train.item_id as video_id, videos.topic_id
    from train
    inner join videos
        on train.item_id = videos.video_id

),

seen_per_topic as (

    select user_id, topic_id, count(*) as n_seen
    from seen
    group by user_id, topic_id

),

videos_by_length as (

    select
        video_id,
        topic_id,
        cast(video_length_s as double) as video_length_s,
        row_number() over (partition by topic_id order by video_length_s desc, video_id) as length_rank
    from videos

),

-- length ranks 1 .. n_slots + the largest number of videos any user has seen in one topic
length_ranks as (

    select distinct length_rank
    from videos_by_length
    where length_rank <= {{ n_slots }} + (select coalesce(max(n_seen), 0) from seen_per_topic)

),

user_topic_depth as (

    select
        user_topic_value.user_id,
        user_topic_value.topic_id,
        user_topic_value.expected_watch_fraction,
        {{ n_slots }} + coalesce(seen_per_topic.n_seen, 0) as depth
    from user_topic_value
    inner join users
        on user_topic_value.user_id = users.user_id
    left join seen_per_topic
        on user_topic_value.user_id = seen_per_topic.user_id
        and user_topic_value.topic_id = seen_per_topic.topic_id

),

oracle_candidates as (

    select
        user_topic_depth.user_id,
        videos_by_length.video_id,
        user_topic_depth.expected_watch_fraction * videos_by_length.video_length_s as expected_watch_time_s
    from user_topic_depth
    inner join length_ranks
        on length_ranks.length_rank <= user_topic_depth.depth
    inner join videos_by_length
        on user_topic_depth.topic_id = videos_by_length.topic_id
        and length_ranks.length_rank = videos_by_length.length_rank
    left join seen
        on user_topic_depth.user_id = seen.user_id
        and videos_by_length.video_id = seen.video_id
    where seen.video_id is null

),

oracle_ranked as (

    select
        user_id,
        expected_watch_time_s,
        row_number() over (partition by user_id order by expected_watch_time_s desc, video_id) as oracle_rank
    from oracle_candidates

),

oracle_users as (

    select
        user_id,
        sum(expected_watch_time_s) as value_s
    from oracle_ranked
    where oracle_rank <= {{ n_slots }}
    group by user_id

),

policy_vs_oracle as (

    select
        policy_users.policy,
        count(*) as n_users,
        {{ exact_avg("policy_users.value_s") }} as policy_value_s,
        {{ exact_avg("oracle_users.value_s") }} as oracle_value_s,
        {{ exact_avg("policy_users.value_s / oracle_users.value_s") }} as mean_user_share_of_oracle
    from policy_users
    inner join oracle_users
        on policy_users.user_id = oracle_users.user_id
    group by policy_users.policy

),

oracle_row as (

    select
        'oracle' as policy,
        count(*) as n_users,
        {{ exact_avg("value_s") }} as policy_value_s,
        {{ exact_avg("value_s") }} as oracle_value_s,
        1.0 as mean_user_share_of_oracle
    from oracle_users

),

final as (

    select * from policy_vs_oracle
    union all
    select * from oracle_row

)

select
    cast(policy as {{ dbt.type_string() }}) as policy,
    cast({{ n_slots }} as integer) as n_slots,
    cast(n_users as bigint) as n_users,
    cast(policy_value_s as double) as policy_value_s,
    cast(oracle_value_s as double) as oracle_value_s,
    cast(policy_value_s / oracle_value_s as double) as share_of_oracle,
    cast(mean_user_share_of_oracle as double) as mean_user_share_of_oracle
from final
