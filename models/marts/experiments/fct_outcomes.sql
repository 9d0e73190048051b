-- One outcome per exposure. How an outcome arises depends on the data set:
--   synthetic: the world's own response model, fraction = clip(pref[user, topic] + N(0, noise_sd), 0.05, 1), with
--              the normal drawn from md5(outcome_salt, experiment, user, item): an honest, reproducible simulation;
--   kuairec:   the observed watch_ratio of that (user, video) (the small matrix is fully observed);
--   movielens: replay, a click when the served item is the user's held-out item.
{%- set dataset = feedlab_dataset() %}

with exposures as (

    select * from {{ ref('fct_exposures') }}

),

items as (

    select item_id, topic_id, item_length_s from {{ ref('stg_items') }}

),

watch_time_range as (

    -- The engagement score scales watch time with the data set's own min-max (as int_engagement does).
    select min(watch_time_s) as min_watch_time_s, max(watch_time_s) as max_watch_time_s
    from {{ ref('int_engagement') }}

),

{% if dataset == 'synthetic' %}
preferences as (

    select * from {{ python_output('sim_user_preferences') }}

),

responses as (

    select
        exposures.*,
        items.item_length_s,
        greatest(
            0.05,
            least(
                1.0,
                preferences.preference + {{ var('noise_sd') }} * {{ md5_normal(dbt.concat([
                    "'" ~ var('outcome_salt') ~ "|'", "exposures.experiment_id", "'|'",
                    "cast(exposures.user_id as " ~ dbt.type_string() ~ ")", "'|'",
                    "cast(exposures.item_id as " ~ dbt.type_string() ~ ")"])) }}
            )
        ) as watch_fraction,
        cast(null as boolean) as is_click
    from exposures
    inner join items on items.item_id = exposures.item_id
    inner join preferences
        on preferences.user_id = exposures.user_id and preferences.topic_id = items.topic_id

),

observed as (

    select
        *,
        watch_fraction * item_length_s as watch_time_s,
        watch_fraction as completion_rate,
        watch_fraction > {{ var('like_threshold') }} as is_like,
        watch_fraction > {{ var('share_threshold') }} as is_share,
        watch_fraction > {{ var('follow_threshold') }} as is_follow
    from responses

),
{% elif dataset == 'kuairec' %}
observed_ratios as (

    select user_id, item_id, {{ exact_avg("watch_ratio") }} as watch_ratio
    from {{ ref('int_split') }}
    group by user_id, item_id

),

observed as (

    select
        exposures.*,
        items.item_length_s,
        observed_ratios.watch_ratio * items.item_length_s as watch_time_s,
        -- least() skips a null, so an unwatched video would complete at 1.0 without the case
        case when observed_ratios.watch_ratio is not null then least(observed_ratios.watch_ratio, 1.0) end
            as completion_rate,
        observed_ratios.watch_ratio > 2.0 as is_like,
        cast(null as boolean) as is_share,
        cast(null as boolean) as is_follow,
        cast(null as boolean) as is_click
    from exposures
    inner join items on items.item_id = exposures.item_id
    left join observed_ratios
        on observed_ratios.user_id = exposures.user_id and observed_ratios.item_id = exposures.item_id

),
{% else %}
held_out as (

    select user_id, item_id from {{ ref('int_split') }} where split = 'test'

),

observed as (

    select
        exposures.*,
        items.item_length_s,
        cast(null as double) as watch_time_s,
        cast(null as double) as completion_rate,
        cast(null as boolean) as is_like,
        cast(null as boolean) as is_share,
        cast(null as boolean) as is_follow,
        held_out.item_id is not null as is_click
    from exposures
    inner join items on items.item_id = exposures.item_id
    left join held_out on held_out.user_id = exposures.user_id and held_out.item_id = exposures.item_id

),
{% endif %}

scored as (

    select
        observed.*,
        least(1.0, greatest(0.0,
            (observed.watch_time_s - watch_time_range.min_watch_time_s)
            / nullif(watch_time_range.max_watch_time_s - watch_time_range.min_watch_time_s, 0)
        )) as watch_time_norm
    from observed
    cross join watch_time_range

)

select
    experiment_id,
    arm,
    policy,
    user_id,
    item_id,
    creator_id,
    position,
    watch_time_s,
    completion_rate,
    is_like,
    is_share,
    is_follow,
    is_click,
    case
        when watch_time_s is not null
            then {{ engagement_score('watch_time_norm', 'completion_rate', 'is_share', 'is_like') }}
    end as engagement_score
from scored
