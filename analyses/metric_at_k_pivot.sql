-- Metric@K pivot: one row per policy, one column per cut-off K, for the headline offline metrics, the way a
-- slide or a spreadsheet shows them.
--
-- fct_offline_metrics (policy × K) pivoted by conditional aggregation over the cut-offs of the var
-- metric_cutoffs (default 5, 10, 20, 50, 100), so the columns follow the build's vars. NDCG@K and hit rate@K for
-- every K, coverage at the largest K; rows sorted by NDCG@10 when 10 is a cut-off (else by the first NDCG column).
--
-- Run: dbt compile -s metric_at_k_pivot
--      duckdb -readonly warehouse/synthetic.duckdb < target/compiled/feedlab/analyses/metric_at_k_pivot.sql
{%- set cutoffs = metric_cutoffs() %}
{%- set sort_k = 10 if 10 in cutoffs else cutoffs[0] %}

select
    dataset,
    policy,
    max(n_users_evaluated) as n_users_evaluated,
{%- for k in cutoffs %}
    max(case when k = {{ k }} then ndcg end) as ndcg_at_{{ k }},
{%- endfor %}
{%- for k in cutoffs %}
    max(case when k = {{ k }} then hit_rate end) as hit_rate_at_{{ k }},
{%- endfor %}
    max(case when k = {{ cutoffs | max }} then coverage end) as coverage_at_{{ cutoffs | max }}
from {{ ref('fct_offline_metrics') }}
group by dataset, policy
order by ndcg_at_{{ sort_k }} desc, policy
