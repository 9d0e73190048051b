{#- The feed depths at which creator fairness is measured: K = 10 (the seed's top-10) and K = var `top_k` (the full
    list every policy returns), sorted, without duplicates, and never deeper than top_k. -#}
{% macro fairness_k_levels() %}
    {%- set top_k = var('top_k') | int -%}
    {%- set levels = [] -%}
    {%- for k in [10, top_k] | sort -%}
        {%- if k <= top_k and k not in levels -%}{% do levels.append(k) %}{%- endif -%}
    {%- endfor -%}
    {{ return(levels) }}
{% endmacro %}

{#- A one-column relation (k integer) of the fairness K levels, to join recommendations on `rank <= k`. -#}
{% macro fairness_k_levels_relation() %}
    (
        {%- for k in fairness_k_levels() %}
        select cast({{ k }} as integer) as k{{ ' union all' if not loop.last }}
        {%- endfor %}
    )
{% endmacro %}
