{#- A relation of the integers 0 .. n - 1 in a column `i`. DuckDB has a table function; elsewhere digits are
    cross-joined, which keeps the SQL portable (Spark, Postgres, ...). -#}
{% macro integers_below(n) %}
    {{ return(adapter.dispatch('integers_below', 'feedlab')(n)) }}
{% endmacro %}

{% macro duckdb__integers_below(n) %}
    (select cast(range as bigint) as i from range({{ n }}))
{% endmacro %}

{% macro default__integers_below(n) %}
    {%- set n_digits = (n | string | length) -%}
    (
        select i from (
            select
                {%- for d in range(n_digits) %}
                d{{ d }}.digit * {{ 10 ** d }}{{ ' +' if not loop.last }}
                {%- endfor %} as i
            from
                {%- for d in range(n_digits) %}
                (
                    {%- for v in range(10) %}
                    select cast({{ v }} as bigint) as digit{{ ' union all' if not loop.last }}
                    {%- endfor %}
                ) as d{{ d }}{{ ',' if not loop.last }}
                {%- endfor %}
        ) as digits
        where i < {{ n }}
    )
{% endmacro %}
