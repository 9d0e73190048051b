-- KuaiRec interactions in the unified interaction shape (base_kuairec__interactions without its source_matrix).
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
    watch_ratio_raw,
    is_like,
    is_share,
    is_follow,
    rating
from {{ ref('base_kuairec__interactions') }}
