{#- Offline ranking metrics with binary relevance, as aggregates over one user's hit rows. Literals are cast to
    double: on Spark a literal such as 1.0 is a DECIMAL, and decimal averages would lose precision.

    Each macro aggregates over the rows of one (policy, user) group, where `rank` is the feed position of a
    relevant item and is null for a user with no hit (a left join), and `k` is a literal cut-off. -#}

{#- log2-discount of a feed position: 1 / log2(rank + 1), written with ln for portability. -#}
{% macro rank_discount(rank) -%}
    (ln(2.0) / ln({{ rank }} + 1.0))
{%- endmacro %}

{#- Hit@K: 1 when any relevant item is in the top K. -#}
{% macro hit_at_k(rank, k) -%}
    max(case when {{ rank }} <= {{ k }} then cast(1 as double) else cast(0 as double) end)
{%- endmacro %}

{#- Recall@K: relevant items in the top K over all relevant items of the user. -#}
{% macro recall_at_k(rank, n_relevant, k) -%}
    (sum(case when {{ rank }} <= {{ k }} then cast(1 as double) else cast(0 as double) end) / max({{ n_relevant }}))
{%- endmacro %}

{#- MRR@K: reciprocal rank of the first relevant item in the top K, else 0. -#}
{% macro mrr_at_k(rank, k) -%}
    max(case when {{ rank }} <= {{ k }} then cast(1 as double) / {{ rank }} else cast(0 as double) end)
{%- endmacro %}

{#- NDCG@K: DCG of the relevant items in the top K over the ideal DCG, i.e. the DCG of min(|relevant|, K) hits
    at positions 1, 2, ... (`ideal_dcg` is that value for the group, see fct_offline_user_metrics). -#}
{% macro ndcg_at_k(rank, ideal_dcg, k) -%}
    (sum(case when {{ rank }} <= {{ k }} then {{ rank_discount(rank) }} else cast(0 as double) end) / max({{ ideal_dcg }}))
{%- endmacro %}

{#- Coverage@K: distinct items recommended in the top K over the catalog size. -#}
{% macro coverage_at_k(item_id, rank, k, n_catalog_items) -%}
    (cast(count(distinct case when {{ rank }} <= {{ k }} then {{ item_id }} end) as double) / {{ n_catalog_items }})
{%- endmacro %}
