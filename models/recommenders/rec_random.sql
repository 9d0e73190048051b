-- A uniformly random feed per user over the servable items (int_servable_items). Items are laid out once in an
-- md5-shuffled order; each user reads that circle from their own md5-chosen offset, skipping seen items. This is
-- K + s rows per user instead of a users × items cross join, so it scales to the 100× world.
{#- The walk's bound is read from int_user_history when it exists: a `dbt compile` or `dbt docs generate` before the
    first build has no table to read (it then shows the walk bounded by top_k alone). -#}
{%- set longest_walk = var('top_k') %}
{%- if execute and load_relation(ref('int_user_history')) is not none %}
    {%- set longest_walk = run_query(
        "select max(n_train_items) + " ~ var('top_k') ~ " from " ~ ref('int_user_history')
    ).columns[0].values()[0] | int %}
{%- endif %}
with items as (

    select
        item_id,
        row_number() over (order by md5(concat('{{ var("random_policy_salt") }}', cast(item_id as {{ dbt.type_string() }}))), item_id) - 1 as position
    from {{ ref('int_servable_items') }}

),

catalog as (

    select count(*) as n_items from items

),

users as (

    select
        user_id,
        n_train_items,
        {{ md5_bucket("concat('" ~ var('random_policy_salt') ~ "', cast(user_id as " ~ dbt.type_string() ~ "))", 1000000007) }} as offset_seed
    from {{ ref('int_user_history') }}

),

walk as (

    select
        users.user_id,
        steps.i as step,
        mod(users.offset_seed + steps.i, catalog.n_items) as position
    from users
    cross join catalog
    inner join {{ integers_below(longest_walk) }} as steps
        on steps.i < least(catalog.n_items, {{ var('top_k') }} + users.n_train_items)

),

ranking as (

    select walk.user_id, items.item_id, walk.step
    from walk
    inner join items on items.position = walk.position

),

seen as (

    select distinct user_id, item_id from {{ ref('int_split') }} where split = 'train'

),

unseen as (

    select
        ranking.user_id,
        ranking.item_id,
        row_number() over (partition by ranking.user_id order by ranking.step) as recommendation_rank
    from ranking
    left join seen on seen.user_id = ranking.user_id and seen.item_id = ranking.item_id
    where seen.item_id is null

)

select
    cast('random' as {{ dbt.type_string() }}) as policy,
    cast(user_id as bigint) as user_id,
    cast(item_id as bigint) as item_id,
    cast(recommendation_rank as integer) as rank,
    cast(1.0 / recommendation_rank as double) as score
from unseen
where recommendation_rank <= {{ var('top_k') }}
