-- Every policy's top-K list per user, one row per recommended item.
{#- python models' outputs are read through python_output() (sources on open-source Spark) -#}
{%- set python_policy_models = python_policy_models() %}
{%- set policy_models = ['rec_random', 'rec_popularity', 'rec_popularity_engagement'] + python_policy_models %}
{%- if var('dataset') != 'movielens' %}{% do policy_models.append('rec_popularity_mean_watch') %}{% endif %}

{% for policy_model in policy_models %}
select policy, user_id, item_id, rank, score
from {{ python_output(policy_model) if policy_model in python_policy_models else ref(policy_model) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
