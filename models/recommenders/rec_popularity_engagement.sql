-- Items with the highest mean training engagement, minus what the user already saw.
with ranking as (

    select item_id, engagement_rank as item_rank, mean_engagement as score
    from {{ ref('int_item_popularity') }}

)

{{ top_k_by_global_rank('popularity_engagement', 'ranking') }}
