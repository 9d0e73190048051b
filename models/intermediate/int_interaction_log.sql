{#-
    The interactions that have "arrived" so far: stg_interactions up to day var `as_of_day`, loaded incrementally.

    Day index: event_day = whole days between the data set's day anchor and event_at, plus 1, where the anchor is
    var `start_date` for the synthetic world and the calendar day (UTC midnight) of the first event for the file
    data sets. The anchor is stored in the table on first load and reused by every later run, so day numbers never
    move as days arrive.

    as_of_day null (default): every interaction, rebuilt in full on every build (config full_refresh) -- exactly the
    behaviour before the feedback loop existed, whatever the world's vars.
    as_of_day N: incremental; a run loads the rows with event_day <= N that are not in the table yet (delete+insert on
    interaction_id, so re-running a day inserts nothing twice). Going back to a day below the highest day already
    in this warehouse, or with other data-set vars or files, is refused before any node runs (macro
    feedback_loop_guard, an on-run-start hook) unless `--full-refresh` restarts the replay at day N. A day past the
    data is refused too: past the synthetic world's n_days on compiling, past a file data set's last day of
    interactions here (CTE loaded_through), since it would load every row and then refuse each real day after it.
-#}
{%- set as_of_day = feedback_as_of_day() %}

{#- delete+insert on interaction_id; dbt-spark has no delete+insert (and merge needs Delta), but the anti-join below
    already loads only new ids, so a plain append is exact there. -#}
{{ config(
    materialized='incremental',
    unique_key='interaction_id',
    incremental_strategy=('append' if target.type in ['spark', 'databricks'] else 'delete+insert'),
    on_schema_change='fail',
    full_refresh=(true if as_of_day is none else none),
) }}

{%- set dataset = feedlab_dataset() %}

with interactions as (

    select * from {{ ref('stg_interactions') }}

),

anchor as (

    {%- if is_incremental() %}
    select min(day_anchor_at) as day_anchor_at from {{ this }}
    {%- elif dataset == 'synthetic' %}
    select cast('{{ var("start_date") }}' as timestamp) as day_anchor_at
    {%- else %}
    select {{ dbt.date_trunc('day', 'min(event_at)') }} as day_anchor_at from interactions
    {%- endif %}

),

dated as (

    select
        interactions.*,
        anchor.day_anchor_at,
        cast({{ dbt.datediff('anchor.day_anchor_at', 'interactions.event_at', 'day') }} + 1 as integer) as event_day
    from interactions
    cross join anchor

)
{%- if as_of_day is not none and dataset != 'synthetic' %},

loaded_through as (

    select
        case
            when max(event_day) >= {{ as_of_day }} then {{ as_of_day }}
            else {{ query_error(dbt.concat([
                "'var as_of_day is " ~ as_of_day ~ ", past the last day of the " ~ dataset ~ " interactions (day '",
                "cast(max(event_day) as " ~ dbt.type_string() ~ ")",
                "')'",
            ])) }}
        end as day
    from dated

)
{%- endif %}

select
    *,
    cast({{ as_of_day if as_of_day is not none else 'null' }} as integer) as loaded_as_of_day,
    cast('{{ feedback_recorded_source_vars() }}' as {{ dbt.type_string() }}) as source_vars
from dated
where 1 = 1
    {%- if as_of_day is not none %}
    and event_day <= {{ as_of_day if dataset == 'synthetic' else '(select day from loaded_through)' }}
    {%- endif %}
    {%- if is_incremental() %}
    and interaction_id not in (select interaction_id from {{ this }})
    {%- endif %}
