-- One row per policy trained in this build: what it trained on, how long it took, with which parameters.
-- SQL policies have no training step; their build time is in dbt's run_results.json.
{%- set python_models = python_policy_models() %}

with python_runs as (

    {%- for policy_model in python_models %}
    select distinct policy, run_dataset as dataset, run_rows_trained as rows_trained, run_seconds as seconds, run_parameters as parameters
    from {{ python_output(policy_model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

training_rows as (

    select count(*) as n_rows from {{ ref('int_split') }} where split = 'train'

),

sql_runs as (

    {%- for policy in sql_policies() %}
    select
        '{{ policy }}' as policy,
        '{{ feedlab_dataset() }}' as dataset,
        n_rows as rows_trained,
        cast(null as double) as seconds,
        '{"engine": "sql"}' as parameters
    from training_rows
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select
    cast(policy as {{ dbt.type_string() }}) as policy,
    cast(dataset as {{ dbt.type_string() }}) as dataset,
    cast(rows_trained as bigint) as rows_trained,
    cast(seconds as double) as seconds,
    cast(parameters as {{ dbt.type_string() }}) as parameters
from python_runs
union all
select
    cast(policy as {{ dbt.type_string() }}),
    cast(dataset as {{ dbt.type_string() }}),
    cast(rows_trained as bigint),
    cast(seconds as double),
    cast(parameters as {{ dbt.type_string() }})
from sql_runs
