{#- Top-K of a non-personalised ranking for every user with training data, skipping the user's training items.
    `ranking` is a relation (item_id, item_rank, score) with item_rank 1, 2, ...; a user who has seen s items
    needs at most K + s ranks, so the join never grows beyond users × (K + s). The macro continues a WITH clause
    (it starts with a comma), so `ranking` is usually a CTE of the calling model. Only int_servable_items are
    served: the ranking is cut to them and renumbered. -#}
{% macro top_k_by_global_rank(policy, ranking, exclude_seen=true) %}
, servable_ranking as (

    select
        ranking.item_id,
        row_number() over (order by ranking.item_rank) as item_rank,
        ranking.score
    from {{ ranking }} as ranking
    inner join {{ ref('int_servable_items') }} as servable
        on servable.item_id = ranking.item_id

),

users as (

    select user_id, n_train_items from {{ ref('int_user_history') }}

),

seen as (

    select distinct user_id, item_id from {{ ref('int_split') }} where split = 'train'

),

candidates as (

    select
        users.user_id,
        ranking.item_id,
        ranking.item_rank,
        ranking.score
    from users
    inner join servable_ranking as ranking
        on ranking.item_rank <= {{ var('top_k') }}{% if exclude_seen %} + users.n_train_items{% endif %}
    {%- if exclude_seen %}
    left join seen
        on seen.user_id = users.user_id and seen.item_id = ranking.item_id
    where seen.item_id is null
    {%- endif %}

),

ranked as (

    select
        *,
        row_number() over (partition by user_id order by item_rank) as recommendation_rank
    from candidates

)

select
    cast('{{ policy }}' as {{ dbt.type_string() }}) as policy,
    cast(user_id as bigint) as user_id,
    cast(item_id as bigint) as item_id,
    cast(recommendation_rank as integer) as rank,
    cast(score as double) as score
from ranked
where recommendation_rank <= {{ var('top_k') }}
{% endmacro %}
