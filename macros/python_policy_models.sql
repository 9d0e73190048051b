{#- The policies a build serves, in one place: the SQL ones (models/recommenders) and the python ones listed in var
    python_policies. fct_recommendations unions them, fct_model_runs lists them, dim_experiments keeps only the
    experiments whose every arm is one of them. -#}

{#- The python policy models this build trains: rec_<name> for each name in var python_policies. -#}
{% macro python_policy_models() %}
    {%- set known = ['svd', 'two_stage_lgbm', 'two_tower_mse', 'two_tower'] -%}
    {%- set names = var('python_policies') -%}
    {%- if names is string or names is mapping or names is not iterable or names | length == 0
            or names | unique | list | length != names | length -%}
        {{ exceptions.raise_compiler_error("var 'python_policies' must be a non-empty list of distinct policy names, e.g. [svd, two_stage_lgbm]; got " ~ names | tojson) }}
    {%- endif -%}
    {%- set models = [] -%}
    {%- for name in names -%}
        {%- if name not in known -%}
            {{ exceptions.raise_compiler_error("var 'python_policies' lists '" ~ name ~ "'; known: " ~ known | join(', ')) }}
        {%- endif -%}
        {%- do models.append('rec_' ~ name) -%}
    {%- endfor -%}
    {{ return(models) }}
{% endmacro %}

{#- The SQL policies: rec_<name> in models/recommenders (popularity_mean_watch ranks by watch time, which MovieLens
    does not log). -#}
{% macro sql_policies() %}
    {%- set policies = ['random', 'popularity', 'popularity_engagement'] -%}
    {%- if var('dataset') != 'movielens' %}{% do policies.append('popularity_mean_watch') %}{% endif -%}
    {{ return(policies) }}
{% endmacro %}

{#- Every policy name this build serves: the SQL policies, then the python ones. -#}
{% macro served_policies() %}
    {%- set policies = sql_policies() -%}
    {%- for policy_model in python_policy_models() %}{% do policies.append(policy_model[4:]) %}{% endfor -%}
    {{ return(policies) }}
{% endmacro %}
