-- Most-interacted items in training, the same ranking for everyone, minus what the user already saw.
with ranking as (

    select item_id, popularity_rank as item_rank, cast(n_interactions as double) as score
    from {{ ref('int_item_popularity') }}

)

{{ top_k_by_global_rank('popularity', 'ranking') }}
