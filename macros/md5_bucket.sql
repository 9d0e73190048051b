{#- A deterministic bucket in [0, n_buckets) from the first 32 bits of md5(expression): md5 is defined the same on
    every engine and version, unlike engine hash functions, so the same key lands in the same bucket everywhere. -#}
{% macro md5_bucket(expression, n_buckets) %}
    {{ return(adapter.dispatch('md5_bucket', 'feedlab')(expression, n_buckets)) }}
{% endmacro %}

{% macro default__md5_bucket(expression, n_buckets) %}
    mod(cast(('0x' || substr(md5({{ expression }}), 1, 8)) as bigint), {{ n_buckets }})
{% endmacro %}

{% macro spark__md5_bucket(expression, n_buckets) %}
    mod(cast(conv(substr(md5({{ expression }}), 1, 8), 16, 10) as bigint), {{ n_buckets }})
{% endmacro %}
