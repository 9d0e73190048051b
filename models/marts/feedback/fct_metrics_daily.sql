{#-
    History of the offline metrics, creator fairness and experiment results, one set of rows per retrain day
    (as_of_day), long format
    for BI: (as_of_day, source, policy, experiment_id, arm, metric, statistic, k) -> value.

    as_of_day N: incremental, delete+insert on as_of_day, so re-running day N replaces day N's rows and keeps every
    other day. as_of_day null (default): a build over the whole history is a snapshot, not a step of a replay: the
    table is rebuilt with that build's rows only, labelled with the last day that has interactions.
-#}
{%- set as_of_day = feedback_as_of_day() %}

{#- Replace one day's rows: delete+insert on as_of_day; on dbt-spark (no delete+insert) a dynamic overwrite of the
    day's partition does the same. -#}
{%- set on_spark = target.type in ['spark', 'databricks'] %}
{{ config(
    materialized='incremental',
    unique_key='as_of_day',
    incremental_strategy=('insert_overwrite' if on_spark else 'delete+insert'),
    partition_by=(['as_of_day'] if on_spark else none),
    on_schema_change='fail',
    full_refresh=(true if as_of_day is none else none),
) }}

{%- set offline_metrics = ['n_users_evaluated', 'hit_rate', 'recall', 'ndcg', 'mrr', 'coverage', 'mean_item_popularity'] %}
{%- set ab_statistics = [
    'n_control', 'n_treatment', 'mean_control', 'mean_treatment', 'absolute_lift', 'relative_lift',
    'relative_ci_low', 'relative_ci_high', 'p_value', 'p_value_holm',
] %}
{%- set value_metrics = ['policy_value_s', 'share_of_oracle', 'mean_user_share_of_oracle'] %}
{%- set fairness_metrics = [
    'gini_exposed', 'gini_all_creators', 'long_tail_share', 'creator_coverage', 'item_coverage', 'exposure_entropy',
] %}

with interaction_log as (

    select * from {{ ref('int_interaction_log') }}

),

run_day as (

    select
        cast({{ as_of_day if as_of_day is not none else 'max(event_day)' }} as integer) as as_of_day,
        min(day_anchor_at) as day_anchor_at
    from interaction_log

),

offline as (

    select * from {{ ref('fct_offline_metrics') }}

),

ab_results as (

    select * from {{ ref('fct_ab_results') }}

),

arms as (

    select experiment_id, arm, policy from {{ ref('dim_experiments') }}

),

model_runs as (

    select * from {{ ref('fct_model_runs') }}

),

fairness as (

    select * from {{ ref('fct_fairness') }}

),

ab_fairness as (

    select * from {{ ref('fct_ab_fairness') }}

),

{%- if var('dataset') == 'synthetic' %}

policy_value as (

    select * from {{ ref('fct_policy_value') }}

),
{%- endif %}

metric_rows as (

    select
        'interaction_log' as source,
        cast(null as {{ dbt.type_string() }}) as policy,
        cast(null as {{ dbt.type_string() }}) as experiment_id,
        cast(null as {{ dbt.type_string() }}) as arm,
        'interactions' as metric,
        'value' as statistic,
        cast(null as integer) as k,
        cast(count(*) as double) as value
    from interaction_log

    union all

    select
        'interaction_log',
        null,
        null,
        null,
        'interactions_on_day',
        'value',
        null,
        cast(count(*) as double)
    from interaction_log
    where event_day = (select as_of_day from run_day)

    union all

    select
        'interaction_log',
        null,
        null,
        null,
        'users',
        'value',
        null,
        cast(count(distinct user_id) as double)
    from interaction_log

    {{- history_rows('offline_metrics', 'offline', offline_metrics, k='k') }}

    {%- for statistic in ab_statistics %}

    union all

    select
        'ab_results',
        arms.policy,
        ab_results.experiment_id,
        ab_results.treatment_arm,
        ab_results.metric,
        '{{ statistic }}',
        null,
        cast(ab_results.{{ statistic }} as double)
    from ab_results
    left join arms
        on ab_results.experiment_id = arms.experiment_id
        and ab_results.treatment_arm = arms.arm
    {%- endfor %}

    {{- history_rows('fairness', 'fairness', fairness_metrics, k='k') }}
    {{- history_rows('ab_fairness', 'ab_fairness', fairness_metrics, experiment_id='experiment_id', arm='arm') }}
    {{- history_rows('model_runs', 'model_runs', ['rows_trained']) }}

    {%- if var('dataset') == 'synthetic' %}
    {{- history_rows('policy_value', 'policy_value', value_metrics, k='n_slots') }}
    {%- endif %}

)

select
    cast(run_day.as_of_day as integer) as as_of_day,
    cast({{ dbt.dateadd('day', 'run_day.as_of_day - 1', 'run_day.day_anchor_at') }} as date) as as_of_date,
    cast('{{ feedlab_dataset() }}' as {{ dbt.type_string() }}) as dataset,
    cast(metric_rows.source as {{ dbt.type_string() }}) as source,
    cast(metric_rows.policy as {{ dbt.type_string() }}) as policy,
    cast(metric_rows.experiment_id as {{ dbt.type_string() }}) as experiment_id,
    cast(metric_rows.arm as {{ dbt.type_string() }}) as arm,
    cast(metric_rows.metric as {{ dbt.type_string() }}) as metric,
    cast(metric_rows.statistic as {{ dbt.type_string() }}) as statistic,
    cast(metric_rows.k as integer) as k,
    cast(metric_rows.value as double) as value
from metric_rows
cross join run_day
