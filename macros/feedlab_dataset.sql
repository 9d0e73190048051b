{#- The active data set, checked against the ones the project can build, so a typo fails with a clear message
    instead of a missing-ref error deep in staging. -#}
{% macro feedlab_dataset() %}
    {%- set dataset = var('dataset') -%}
    {%- set known = feedlab_datasets() -%}
    {%- if dataset not in known -%}
        {{ exceptions.raise_compiler_error("var 'dataset' is '" ~ dataset ~ "'; expected one of " ~ known | join(', ')) }}
    {%- endif -%}
    {{- return(dataset) -}}
{% endmacro %}

{#- The data sets the project can build (var `dataset`, the registry seed's `datasets` column). -#}
{% macro feedlab_datasets() %}
    {{- return(['synthetic', 'movielens', 'kuairec']) -}}
{% endmacro %}
