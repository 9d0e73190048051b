{#- Seeds on dbt-spark's `session` method. dbt-spark 1.11's spark__load_csv_rows binds every value with %s, and the
    session cursor substitutes the bindings with Python's `sql % values`, unquoted: a text value becomes bare SQL
    (`cast(pop_vs_svd as string)`). This override (the root project's version wins over the adapter's) writes each
    value as a quoted SQL literal instead, so seeds load the same on every dbt-spark method. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set column_type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ feedlab_sql_literal(row[loop.index0]) }} as {{ column_type }}){{ ',' if not loop.last }}
                {%- endfor -%}){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A Python value of a seed row as a Spark SQL literal: null, true / false, a number, or a quoted string. -#}
{% macro feedlab_sql_literal(value) %}
    {%- if value is none -%}null
    {%- elif value is sameas true -%}true
    {%- elif value is sameas false -%}false
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{% endmacro %}

{#- Contracts on dbt-spark with plain Parquet tables. dbt-spark 1.11 assumes Delta when `file_format` is unset and
    persists not_null constraints with `alter table ... change column ... set not null`, which only Delta supports
    (open-source Spark with its default Parquet tables fails: UNSUPPORTED_FEATURE.TABLE_OPERATION). Constraints are
    persisted here only when the model really is Delta; the contract's column names and types are still enforced
    before the table is built, and the not_null data tests still run. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config.enforced and config.get('file_format') == 'delta' -%}
        {%- do alter_table_add_constraints(relation, model.constraints) -%}
        {%- do alter_column_set_constraints(relation, model.columns) -%}
    {%- endif -%}
{% endmacro %}
