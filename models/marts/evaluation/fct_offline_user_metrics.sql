-- Per policy × user × K: Hit, Recall, NDCG and MRR of the user's feed against the held-out items.
-- Relevant items are the user's test items that the user did not already have in training (every policy but the
-- seed's popularity_mean_watch excludes training items, so such a test item could never be a hit; that baseline
-- serves one list to everyone, seen videos included, and its slots on seen videos count as misses). Every policy is
-- scored on every user who has a relevant item; a user missing from a policy's output scores 0. Metrics are rounded to 1e-12 so that
-- the table is identical run to run whatever order DuckDB's parallel sums take.
{%- set cutoffs = metric_cutoffs() %}

with recommendations as (

    select * from {{ ref('fct_recommendations') }}

),

splits as (

    select * from {{ ref('int_split') }}

),

train_items as (

    select distinct user_id, item_id from splits where split = 'train'

),

relevant as (

    select distinct test.user_id, test.item_id
    from splits as test
    left join train_items
        on train_items.user_id = test.user_id and train_items.item_id = test.item_id
    where test.split = 'test' and train_items.item_id is null

),

evaluated_users as (

    select user_id, count(*) as n_relevant from relevant group by user_id

),

policies as (

    select distinct policy from recommendations

),

positions as (

    select i + 1 as position from {{ integers_below(cutoffs | max) }}

),

ideal as (

    select
        relevant_counts.n_relevant,
        cutoffs.k,
        sum({{ rank_discount('positions.position') }}) as ideal_dcg
    from (select distinct n_relevant from evaluated_users) as relevant_counts
    cross join (
        {%- for k in cutoffs %}
        select {{ k }} as k{{ ' union all' if not loop.last }}
        {%- endfor %}
    ) as cutoffs
    inner join positions
        on positions.position <= least(relevant_counts.n_relevant, cutoffs.k)
    group by relevant_counts.n_relevant, cutoffs.k

),

hits as (

    select recommendations.policy, recommendations.user_id, recommendations.rank
    from recommendations
    inner join relevant
        on relevant.user_id = recommendations.user_id and relevant.item_id = recommendations.item_id

),

user_hits as (

    select
        policies.policy,
        evaluated_users.user_id,
        evaluated_users.n_relevant,
        hits.rank
    from policies
    cross join evaluated_users
    left join hits
        on hits.policy = policies.policy and hits.user_id = evaluated_users.user_id

)

{% for k in cutoffs %}
select
    user_hits.policy,
    user_hits.user_id,
    {{ k }} as k,
    user_hits.n_relevant,
    {{ hit_at_k('user_hits.rank', k) }} as hit,
    round({{ recall_at_k('user_hits.rank', 'user_hits.n_relevant', k) }}, 12) as recall,
    round({{ ndcg_at_k('user_hits.rank', 'ideal.ideal_dcg', k) }}, 12) as ndcg,
    round({{ mrr_at_k('user_hits.rank', k) }}, 12) as mrr
from user_hits
inner join ideal on ideal.n_relevant = user_hits.n_relevant and ideal.k = {{ k }}
group by user_hits.policy, user_hits.user_id, user_hits.n_relevant
{% if not loop.last %}union all{% endif %}
{%- endfor %}
