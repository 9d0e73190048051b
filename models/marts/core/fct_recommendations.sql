-- Every policy's top-K list per user, one row per recommended item.
{#- python models' outputs are read through python_output() (sources on open-source Spark) -#}
{%- set python_models = python_policy_models() %}

{% for policy in served_policies() %}
{%- set policy_model = 'rec_' ~ policy %}
select policy, user_id, item_id, rank, score
from {{ python_output(policy_model) if policy_model in python_models else ref(policy_model) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
