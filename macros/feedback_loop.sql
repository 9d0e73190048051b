{#- The feedback loop's var `as_of_day` (int_interaction_log, fct_metrics_daily): its validation, the fingerprint of the data it replays,
    and the guard that keeps a replay moving forward. -#}

{#- var `as_of_day` as an int >= 1, or none (the whole history); a one-line error for anything else. -#}
{% macro feedback_as_of_day() %}
    {%- set as_of_day = var('as_of_day', none) %}
    {%- if as_of_day is none %}{{ return(none) }}{% endif %}
    {%- if not modules.re.fullmatch('[0-9]+', as_of_day | string | trim) %}
        {{ exceptions.raise_compiler_error("var 'as_of_day' must be a whole day number >= 1 (or null for the whole history), got '" ~ as_of_day ~ "'") }}
    {%- endif %}
    {%- set day = as_of_day | string | trim | int %}
    {%- if day < 1 %}
        {{ exceptions.raise_compiler_error("var 'as_of_day' must be >= 1 (day 1 is the data set's first day), got " ~ day) }}
    {%- endif %}
    {#- a day past the data would load everything and then refuse every real day before it (a file data set's last
        day is known only to its data: int_interaction_log checks that one) -#}
    {#- n_days checked here too: this runs while dbt parses, before check_vars, and a bad n_days read as an int
        (0) blamed as_of_day -#}
    {%- if feedlab_dataset() == 'synthetic' and day > whole_number_var('n_days', 1) %}
        {{ exceptions.raise_compiler_error("var 'as_of_day' is " ~ day ~ ", past the synthetic world's last day (n_days: "
                                           ~ var('n_days') ~ ")") }}
    {%- elif day > 2147483647 %}
        {{ exceptions.raise_compiler_error("var 'as_of_day' is " ~ day ~ ", beyond any day of data (at most 2147483647)") }}
    {%- endif %}
    {{ return(day) }}
{% endmacro %}

{#- What the interactions depend on: the data set and its vars, and for a file data set its folder's listing, as a
    dict. -#}
{% macro feedback_source_vars() %}
    {%- set dataset = feedlab_dataset() %}
    {%- set source_vars = {'dataset': dataset} %}
    {%- if dataset == 'synthetic' %}
        {%- for name in ['n_users', 'n_videos', 'n_creators', 'n_topics', 'n_interactions', 'world_seed', 'n_days',
                         'start_date', 'seed_compat', 'noise_sd', 'like_threshold', 'share_threshold', 'follow_threshold'] %}
            {%- do source_vars.update({name: var(name) | string}) %}
        {%- endfor %}
    {%- elif dataset == 'movielens' %}
        {%- do source_vars.update({'movielens_path': var('movielens_path') | string,
                                   'movielens_files': feedback_folder_files(var('movielens_path'))}) %}
    {%- else %}
        {%- for name in ['kuairec_path', 'kuairec_use_big_matrix', 'kuairec_watch_ratio_cap'] %}
            {%- do source_vars.update({name: var(name) | string}) %}
        {%- endfor %}
        {%- do source_vars.update({'kuairec_files': feedback_folder_files(var('kuairec_path'))}) %}
    {%- endif %}
    {{ return(source_vars) }}
{% endmacro %}

{#- md5 of the listing of a file data set's folder (each file's name, size and modification time), so that a replay
    notices files replaced under the same path without reading them. DuckDB lists the folder; on Spark, and while
    dbt parses, it is '' (the path alone then stands for the files). The folder's own glob characters are matched
    literally (`[` as `[[]`, ...): unescaped, a folder such as `ml[1]` matched nothing and its files went unchecked. -#}
{% macro feedback_folder_files(folder) %}
    {%- if not execute or target.type != 'duckdb' or not (folder | string | trim) %}{{ return('') }}{% endif %}
    {%- set literal_folder = modules.re.sub('([\\[*?])', '[\\1]', (folder | string | trim).rstrip('/')) %}
    {%- set pattern = "'" ~ (literal_folder ~ '/*') | replace("'", "''") ~ "'" %}
    {#- glob first: read_blob fails on a pattern that matches nothing, and a missing folder is the loader's to name -#}
    {%- if run_query("select count(*) from glob(" ~ pattern ~ ")").rows[0][0] == 0 %}{{ return('') }}{% endif %}
    {%- set listing = run_query(
        "select string_agg(concat_ws(' ', filename, size, epoch_us(last_modified)), chr(10) order by filename) "
        ~ "from read_blob(" ~ pattern ~ ")").rows[0][0] %}
    {{ return(local_md5(listing)) }}
{% endmacro %}

{#- feedback_source_vars() as the JSON stored in int_interaction_log.source_vars, so that a replay can name the vars
    that changed: a value of plain characters (letters, digits, spaces and . / : _ + ~ -) as it is, any other as
    'md5:' and its md5, so that the JSON needs no escaping inside a SQL string literal on DuckDB or Spark. -#}
{% macro feedback_recorded_source_vars() %}
    {%- set recorded = {} %}
    {%- for name, value in feedback_source_vars().items() %}
        {%- set plain = modules.re.fullmatch('[A-Za-z0-9 ./:_+~-]*', value) %}
        {%- do recorded.update({name: value if plain else 'md5:' ~ local_md5(value)}) %}
    {%- endfor %}
    {{ return(tojson(recorded, sort_keys=true)) }}
{% endmacro %}

{#- on-run-start hook of `dbt build` / `dbt run` (not --full-refresh): refuses, before any node runs, with as_of_day N
    a day below the highest day already in the warehouse (int_interaction_log's days or fct_metrics_daily's) and
    interactions loaded from another source; without as_of_day, a build over a day-by-day replay, which would replace
    the replay's daily history by one snapshot. A hook, not a check inside the models, because the models before
    int_interaction_log would already have been written by then: on Spark, the marts that read python outputs
    (sources there, outside the DAG) came from the previous day's export; DuckDB's builds are published atomically
    anyway. Renders no SQL. -#}
{% macro feedback_loop_guard() %}
    {%- set as_of_day = feedback_as_of_day() %}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH not in ['build', 'run'] %}
        {{ return('') }}
    {%- endif %}
    {%- set log = adapter.get_relation(database=target.database, schema=target.schema, identifier='int_interaction_log') %}
    {%- set history = adapter.get_relation(database=target.database, schema=target.schema, identifier='fct_metrics_daily') %}
    {#- fct_metrics_daily's days count too: a day without new interactions loads no row into the log -#}
    {%- set highest_day = namespace(day=0, table=none) %}
    {%- for relation, day_column in [(log, 'event_day'), (history, 'as_of_day')] if relation is not none %}
        {%- set day = run_query("select max(" ~ day_column ~ ") from " ~ relation).rows[0][0] %}
        {%- if day is not none and day > highest_day.day %}
            {%- set highest_day.day = day %}
            {%- set highest_day.table = relation.identifier %}
        {%- endif %}
    {%- endfor %}
    {%- if as_of_day is none %}
        {%- set replayed_day = run_query("select max(loaded_as_of_day) from " ~ log).rows[0][0] if log is not none else none %}
        {%- if replayed_day is not none %}
            {%- set last_day = [replayed_day, highest_day.day] | max %}
            {{ exceptions.raise_compiler_error(
                "feedback loop: this warehouse holds a day-by-day replay (up to day " ~ last_day ~ ", "
                ~ "int_interaction_log and fct_metrics_daily); a build without as_of_day is a snapshot of the whole "
                ~ "history and would replace the replay's daily rows in fct_metrics_daily. Continue the replay with "
                ~ "as_of_day >= " ~ last_day ~ ", or replace it with --full-refresh (make build DBT_ARGS=--full-refresh)."
            ) }}
        {%- endif %}
        {{ return('') }}
    {%- endif %}
    {%- if as_of_day < highest_day.day %}
        {{ exceptions.raise_compiler_error(
            "feedback loop: as_of_day " ~ as_of_day ~ " is before day " ~ highest_day.day ~ ", the latest day already "
            ~ "in this warehouse (" ~ highest_day.table ~ "). Days only move forward; to replay from day " ~ as_of_day
            ~ " rebuild with --full-refresh (make build VARS=\"{as_of_day: " ~ as_of_day
            ~ "}\" DBT_ARGS=--full-refresh;"
            ~ " this drops the metrics history of later days)"
        ) }}
    {%- endif %}
    {%- if log is not none %}
        {%- set log_columns = adapter.get_columns_in_relation(log) | map(attribute='name') | map('lower') | list %}
        {%- if 'source_vars' not in log_columns %}
            {{ exceptions.raise_compiler_error(
                "feedback loop: int_interaction_log has no column source_vars (its replay was started by an older "
                ~ "feedlab, which kept only their md5), so this run cannot check that it continues the same world. "
                ~ "Restart the replay with --full-refresh."
            ) }}
        {%- endif %}
        {%- set current = fromjson(feedback_recorded_source_vars()) %}
        {%- for stored_json in run_query("select distinct source_vars from " ~ log).columns[0].values() %}
            {%- set stored = fromjson(stored_json) %}
            {%- set changes = [] %}
            {%- for name in ((stored.keys() | list) + (current.keys() | list)) | unique | sort
                    if stored.get(name) != current.get(name) %}
                {%- do changes.append(name ~ " was '" ~ stored.get(name) ~ "', now '" ~ current.get(name) ~ "'") %}
            {%- endfor %}
            {%- if changes %}
                {{ exceptions.raise_compiler_error(
                    "feedback loop: the interactions already loaded in int_interaction_log come from another source ("
                    ~ changes | join('; ') ~ "); continuing the replay would mix two worlds. "
                    ~ "Rebuild with --full-refresh."
                ) }}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
    {{ return('') }}
{% endmacro %}

{#- fct_metrics_daily's long rows from one mart, each preceded by `union all`: one row per row of `relation` and
    metric in `metrics`, as (source, policy, experiment_id, arm, metric, statistic 'value', k, value). The keyword
    arguments name the columns that fill experiment_id, arm and k (SQL null when the mart has none). -#}
{% macro history_rows(source, relation, metrics, k='null', experiment_id='null', arm='null') %}
    {%- for metric in metrics %}

    union all

    select
        '{{ source }}',
        policy,
        {{ experiment_id }},
        {{ arm }},
        '{{ metric }}',
        'value',
        {{ k }},
        cast({{ metric }} as double)
    from {{ relation }}
    {%- endfor %}
{% endmacro %}
