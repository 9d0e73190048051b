-- Per policy × K: the user-averaged ranking metrics, catalog coverage and the mean popularity of what is served.
{%- set cutoffs = metric_cutoffs() %}

with user_metrics as (

    select * from {{ ref('fct_offline_user_metrics') }}

),

recommendations as (

    select * from {{ ref('fct_recommendations') }}

),

popularity as (

    select item_id, n_interactions from {{ ref('int_item_popularity') }}

),

catalog as (

    -- the catalogue policies rank (int_servable_items: all items, or KuaiRec's small matrix under big_to_small)
    select count(*) as n_items from {{ ref('int_servable_items') }}

),

averaged as (

    select
        policy,
        k,
        count(*) as n_users_evaluated,
        {{ exact_avg("hit") }} as hit_rate,
        {{ exact_avg("recall") }} as recall,
        {{ exact_avg("ndcg") }} as ndcg,
        {{ exact_avg("mrr") }} as mrr
    from user_metrics
    group by policy, k

),

served as (

    {% for k in cutoffs %}
    select
        recommendations.policy,
        {{ k }} as k,
        {{ coverage_at_k('recommendations.item_id', 'recommendations.rank', k, 'max(catalog.n_items)') }} as coverage,
        -- an integer sum is exact in any order: no need for exact_avg's fixed point
        cast(sum(case when recommendations.rank <= {{ k }} then popularity.n_interactions end) as double)
            / nullif(count(case when recommendations.rank <= {{ k }} then popularity.n_interactions end), 0) as mean_item_popularity
    from recommendations
    cross join catalog
    left join popularity on popularity.item_id = recommendations.item_id
    group by recommendations.policy
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select
    cast('{{ feedlab_dataset() }}' as {{ dbt.type_string() }}) as dataset,
    averaged.policy,
    cast(averaged.k as integer) as k,
    averaged.n_users_evaluated,
    averaged.hit_rate,
    averaged.recall,
    averaged.ndcg,
    averaged.mrr,
    served.coverage,
    served.mean_item_popularity
from averaged
inner join served on served.policy = averaged.policy and served.k = averaged.k
