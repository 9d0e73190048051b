{#- The python policy models this build trains: rec_<name> for each name in var python_policies. -#}
{% macro python_policy_models() %}
    {%- set known = ['svd', 'two_stage_lgbm', 'two_tower_mse', 'two_tower'] -%}
    {%- set models = [] -%}
    {%- for name in var('python_policies') -%}
        {%- if name not in known -%}
            {{ exceptions.raise_compiler_error("var 'python_policies' lists '" ~ name ~ "'; known: " ~ known | join(', ')) }}
        {%- endif -%}
        {%- do models.append('rec_' ~ name) -%}
    {%- endfor -%}
    {{ return(models) }}
{% endmacro %}
