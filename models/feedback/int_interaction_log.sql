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
    in this warehouse is refused (see the guard below) unless `--full-refresh` restarts the replay at day N.
-#}
{%- set as_of_day = var('as_of_day', none) %}
{%- if as_of_day is not none and not modules.re.fullmatch('[0-9]+', as_of_day | string | trim) %}
    {{ exceptions.raise_compiler_error("var 'as_of_day' must be a whole day number >= 1 (or null for the whole history), got '" ~ as_of_day ~ "'") }}
{%- endif %}
{%- if as_of_day is not none %}{% set as_of_day = as_of_day | string | trim | int %}{% endif %}
{%- if as_of_day is not none and as_of_day < 1 %}
    {{ exceptions.raise_compiler_error("var 'as_of_day' must be >= 1 (day 1 is the data set's first day), got " ~ as_of_day) }}
{%- endif %}

{#- delete+insert on interaction_id; dbt-spark has no delete+insert (and merge needs Delta), but the anti-join below
    already loads only new ids, so a plain append is exact there. -#}
{{ config(
    materialized='incremental',
    unique_key='interaction_id',
    incremental_strategy=('append' if target.type in ['spark', 'databricks'] else 'delete+insert'),
    on_schema_change='fail',
    full_refresh=(true if as_of_day is none else none),
) }}

{#- What the rows depend on besides the files' contents: a replay must not continue with another world. -#}
{%- set dataset = feedlab_dataset() %}
{%- set source_vars = {'dataset': dataset} %}
{%- if dataset == 'synthetic' %}
    {%- for name in ['n_users', 'n_videos', 'n_creators', 'n_topics', 'n_interactions', 'world_seed', 'n_days',
                     'start_date', 'seed_compat', 'noise_sd', 'like_threshold', 'share_threshold', 'follow_threshold'] %}
        {%- do source_vars.update({name: var(name) | string}) %}
    {%- endfor %}
{%- elif dataset == 'movielens' %}
    {%- do source_vars.update({'movielens_path': var('movielens_path') | string}) %}
{%- else %}
    {%- for name in ['kuairec_path', 'kuairec_use_big_matrix', 'kuairec_watch_ratio_cap'] %}
        {%- do source_vars.update({name: var(name) | string}) %}
    {%- endfor %}
{%- endif %}
{%- set source_fingerprint = local_md5(tojson(source_vars, sort_keys=true)) %}

{#- Guard: days only move forward within one warehouse. Runs before anything is written. -#}
{%- if execute and is_incremental() %}
    {%- set loaded = run_query(
        "select max(event_day), count(distinct source_fingerprint), max(source_fingerprint) from " ~ this
    ).rows[0] %}
    {%- set highest_day = loaded[0] if loaded[0] is not none else 0 %}
    {%- set where_highest = this.identifier %}
    {%- set history = adapter.get_relation(database=this.database, schema=this.schema, identifier='fct_metrics_daily') %}
    {%- if history is not none %}
        {%- set history_day = run_query("select max(as_of_day) from " ~ history).rows[0][0] %}
        {%- if history_day is not none and history_day > highest_day %}
            {%- set highest_day = history_day %}
            {%- set where_highest = 'fct_metrics_daily' %}
        {%- endif %}
    {%- endif %}
    {%- if as_of_day < highest_day %}
        {{ exceptions.raise_compiler_error(
            "feedback loop: as_of_day " ~ as_of_day ~ " is before day " ~ highest_day ~ ", the latest day already in "
            ~ "this warehouse (" ~ where_highest ~ "). Days only move forward; to replay from day " ~ as_of_day
            ~ " rebuild with --full-refresh (this drops the metrics history of later days)."
        ) }}
    {%- endif %}
    {%- if loaded[1] > 1 or (loaded[2] is not none and loaded[2] != source_fingerprint) %}
        {{ exceptions.raise_compiler_error(
            "feedback loop: the interactions already loaded in " ~ this.identifier ~ " come from another source "
            ~ "(different data set vars or files than " ~ tojson(source_vars, sort_keys=true) ~ "); continuing the "
            ~ "replay would mix two worlds. Rebuild with --full-refresh."
        ) }}
    {%- endif %}
{%- endif %}

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

select
    *,
    cast({{ as_of_day if as_of_day is not none else 'null' }} as integer) as loaded_as_of_day,
    cast('{{ source_fingerprint }}' as {{ dbt.type_string() }}) as source_fingerprint
from dated
where 1 = 1
    {%- if as_of_day is not none %}
    and event_day <= {{ as_of_day }}
    {%- endif %}
    {%- if is_incremental() %}
    and interaction_id not in (select interaction_id from {{ this }})
    {%- endif %}
