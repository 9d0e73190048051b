{#- Counter-based pseudo-random numbers from md5: the same key gives the same draw on every engine, in any
    row order and at any parallelism, so simulated outcomes are reproducible bit for bit and portable. -#}

{#- A uniform draw in (0, 1) from the first 32 bits of md5(key). -#}
{% macro md5_uniform(key) -%}
    (({{ md5_bucket(key, 4294967296) }} + 0.5) / 4294967296.0)
{%- endmacro %}

{#- A standard normal draw (Box–Muller on two md5 uniforms of the key). -#}
{% macro md5_normal(key) -%}
    (
        sqrt(-2.0 * ln({{ md5_uniform(dbt.concat([key, "'|u1'"])) }}))
        * cos(2.0 * pi() * {{ md5_uniform(dbt.concat([key, "'|u2'"])) }})
    )
{%- endmacro %}
