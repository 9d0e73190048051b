-- The two feeds of the seed notebook's A/B as it served them to its 50/50 split of users (seed_compat only):
-- control = the 10 videos with the highest mean watch time over all interactions, the same list for every control
-- user; treatment = the user's 10 best SVD scores (int_seed_svd_feeds). One row per user × slot, with the video's
-- creator for the exposure figures.
{%- set feed_size = 10 %}

with svd_feeds as (

    select * from {{ python_output('int_seed_svd_feeds') }}

),

interactions as (

    select * from {{ ref('stg_interactions') }}

),

items as (

    select * from {{ ref('stg_items') }}

),

item_watch_time as (

    select item_id, {{ exact_avg("watch_time_s") }} as mean_watch_time_s
    from interactions
    group by item_id

),

popular_items as (

    select item_id, slot
    from (
        select
            item_id,
            -- the seed's sort by mean watch time, descending; item_id only orders exact ties
            row_number() over (order by mean_watch_time_s desc, item_id) as slot
        from item_watch_time
    ) as ranked
    where slot <= {{ feed_size }}

),

arms as (

    select distinct user_id, arm from svd_feeds

),

control_feeds as (

    select arms.arm, arms.user_id, popular_items.slot, popular_items.item_id
    from arms
    cross join popular_items
    where arms.arm = 'control'

),

treatment_feeds as (

    select arm, user_id, rank as slot, video_id as item_id
    from svd_feeds
    where arm = 'treatment'

),

feeds as (

    select * from control_feeds
    union all
    select * from treatment_feeds

)

select
    cast(feeds.arm as {{ dbt.type_string() }}) as arm,
    cast(feeds.user_id as bigint) as user_id,
    cast(feeds.slot as integer) as slot,
    cast(feeds.item_id as bigint) as item_id,
    cast(items.creator_id as bigint) as creator_id
from feeds
inner join items on items.item_id = feeds.item_id
