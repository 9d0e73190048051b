{#- How many hash buckets an experiment's users are spread over (dim_assignments) and its arms' traffic shares are
    cut into (dim_experiments): one number, so the two always agree. -#}
{% macro assignment_buckets() %}
    {{- return(10000) -}}
{% endmacro %}
