{#- The relation of a python model's output. Python models do not run on open-source Spark (dbt-spark): on a
    `spark` target they are disabled and their outputs, exported as Parquet by a DuckDB build
    (`python -m feedlab.spark export`), are read as the sources `python_outputs` (models/python_outputs/_python_outputs__sources.yml).
    Every other target (duckdb, and Databricks where python models run) gets the model itself. SQL that reads a
    python model's output must use this macro instead of ref(), so the same SQL builds on every target. -#}
{% macro python_output(model_name) %}
    {%- if target.type == 'spark' -%}
        {{ return(source('python_outputs', model_name)) }}
    {%- else -%}
        {{ return(ref(model_name)) }}
    {%- endif -%}
{% endmacro %}
