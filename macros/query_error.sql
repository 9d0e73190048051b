{#- An expression that stops the query with `message` (a SQL string expression) when it is evaluated: DuckDB's
    error(), Spark's raise_error(). Put it in a CASE branch, so that the query fails only when the branch is taken.
    The text starts with the loaders' marker "FeedlabInputError: ", so that feedlab.build ends a failed build with
    it, as it does with a bad file's message. -#}
{% macro query_error(message) %}
    {{ return(adapter.dispatch('query_error', 'feedlab')(dbt.concat(["'FeedlabInputError: '", message]))) }}
{% endmacro %}

{% macro default__query_error(message) %}error({{ message }}){% endmacro %}

{% macro spark__query_error(message) %}raise_error({{ message }}){% endmacro %}
