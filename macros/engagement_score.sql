{#- Engagement score of one interaction: a weighted sum of signals in [0, 1] (weights are vars, default the seed's
    0.45 watch time + 0.30 completion + 0.15 share + 0.10 like). Arguments are SQL expressions; booleans are
    counted as 0/1 and a missing signal counts as 0. -#}
{% macro engagement_score(watch_time_norm, completion, is_share, is_like) %}
    (
        {{ var('engagement_weight_watch_time') }} * coalesce({{ watch_time_norm }}, 0)
        + {{ var('engagement_weight_completion') }} * coalesce({{ completion }}, 0)
        + {{ var('engagement_weight_share') }} * coalesce(cast({{ is_share }} as integer), 0)
        + {{ var('engagement_weight_like') }} * coalesce(cast({{ is_like }} as integer), 0)
    )
{% endmacro %}
