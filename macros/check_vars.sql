{#- The build's vars, checked before any node runs (an on-run-start hook): a bad --vars value stops the build at once
    with a one-line error naming the var, instead of failing (or silently narrowing a result) nodes later. The python
    models check what they read too; this catches it first, on every engine. Renders no SQL. (metric_cutoffs is
    checked earlier still, at parse time, by the models that loop over it: macro metric_cutoffs.) -#}
{% macro check_vars() %}
    {#- a catalogue of one video (or one user) leaves nothing to rank or to factorise -#}
    {%- for name in ['n_users', 'n_videos'] %}
        {%- do whole_number_var(name, 2) %}
    {%- endfor %}
    {%- for name in ['n_creators', 'n_topics', 'n_interactions', 'n_days', 'svd_components', 'lgbm_candidates'] %}
        {%- do whole_number_var(name, 1) %}
    {%- endfor %}
    {%- do whole_number_var('world_seed', 0) %}
    {%- set top_k = whole_number_var('top_k', 1) %}
    {%- if whole_number_var('serve_k', 1) > top_k %}
        {{ exceptions.raise_compiler_error("var 'serve_k' (" ~ var('serve_k') ~ ") is above var 'top_k' (" ~ top_k
            ~ "): an arm can only serve items of its policy's top_k list") }}
    {%- endif %}
    {%- do calendar_date_var('start_date') %}
    {%- for name in ['like_threshold', 'share_threshold', 'follow_threshold'] %}
        {%- do number_var(name, 0, 1) %}
    {%- endfor %}
    {%- do number_var('noise_sd', 0, none) %}
    {%- if number_var('temporal_test_share', 0, 1, above_minimum=true) == 1 %}
        {{ exceptions.raise_compiler_error("var 'temporal_test_share' must be below 1: the split needs training rows") }}
    {%- endif %}
    {%- do number_var('kuairec_watch_ratio_cap', 0, none, above_minimum=true) %}
    {%- for name in ['engagement_weight_watch_time', 'engagement_weight_completion', 'engagement_weight_share',
                     'engagement_weight_like'] %}
        {%- do number_var(name, 0, none) %}
    {%- endfor %}
    {%- for name in ['seed_compat', 'kuairec_use_big_matrix'] if var(name) is not boolean %}
        {#- a string 'false' would be true in every Jinja condition that reads the var -#}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be true or false, got " ~ var(name) | tojson) }}
    {%- endfor %}
    {%- for name, choices in [('svd_value', ['auto', 'binary', 'value']),
                              ('lgbm_label', ['auto', 'presence', 'watch_time']),
                              ('split_protocol', ['leave_last_out', 'temporal']),
                              ('lgbm_objective', ['auto', 'lambdarank', 'binary', 'regression'])] %}
        {%- if var(name) not in choices %}
            {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be one of " ~ choices | join(', ') ~ ", got "
                ~ var(name) | tojson) }}
        {%- endif %}
    {%- endfor %}
    {{ return('') }}
{% endmacro %}

{#- var `name` as a date YYYY-MM-DD that the calendar has (not 2025-13-01, not 2025-02-30), or a one-line error.
    (YAML reads an unquoted 2025-01-01 as a date: its string is the same text.) -#}
{% macro calendar_date_var(name) %}
    {%- set text = var(name) | string | trim %}
    {%- set parts = modules.re.fullmatch('([0-9]{4})-([0-9]{2})-([0-9]{2})', text) %}
    {%- set year, month, day = (parts.groups() | map('int') | list) if parts else (0, 0, 0) %}
    {%- set leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) %}
    {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] %}
    {%- if not parts or year < 1 or month < 1 or month > 12 or day < 1 or day > month_days[month - 1] %}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be a date as YYYY-MM-DD, got " ~ text | tojson) }}
    {%- endif %}
    {{ return(text) }}
{% endmacro %}

{#- var `name` as an int >= minimum (written as a YAML number or a string of digits), or a one-line error. -#}
{% macro whole_number_var(name, minimum) %}
    {%- set value = var(name) %}
    {%- if value is boolean or not modules.re.fullmatch('[0-9]+', value | string | trim) or value | int < minimum %}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be a whole number >= " ~ minimum ~ ", got "
            ~ value | tojson) }}
    {%- endif %}
    {{ return(value | int) }}
{% endmacro %}

{#- var `name` as a number in [minimum, maximum] (no bound where none; above_minimum: strictly above it). -#}
{% macro number_var(name, minimum, maximum, above_minimum=false) %}
    {%- set value = var(name) %}
    {%- set text = value | string | trim %}
    {%- set is_number = value is number and value is not boolean
        or modules.re.fullmatch('[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?', text) is not none %}
    {%- set number = text | float if is_number else none %}
    {#- NaN fails every comparison and inf is no setting: both are refused by the finite test -#}
    {%- if number is none or not (number | abs <= 1.7976931348623157e308) or number < minimum
            or (above_minimum and number == minimum) or (maximum is not none and number > maximum) %}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be a number "
            ~ ("> " if above_minimum else ">= ") ~ minimum ~ (" and <= " ~ maximum if maximum is not none else "")
            ~ ", got " ~ value | tojson) }}
    {%- endif %}
    {{ return(number) }}
{% endmacro %}

{#- var `metric_cutoffs` as a list of ints in 1..top_k (the models that loop over it call this at parse time). -#}
{% macro metric_cutoffs() %}
    {%- set cutoffs = var('metric_cutoffs') %}
    {%- if cutoffs is string or cutoffs is mapping or cutoffs is not iterable or cutoffs | length == 0 %}
        {{ exceptions.raise_compiler_error("var 'metric_cutoffs' must be a non-empty list of whole numbers, got "
            ~ cutoffs | tojson) }}
    {%- endif %}
    {%- set top_k = whole_number_var('top_k', 1) %}
    {%- for cutoff in cutoffs %}
        {%- if cutoff is boolean or not modules.re.fullmatch('[0-9]+', cutoff | string | trim)
                or cutoff | int < 1 or cutoff | int > top_k %}
            {{ exceptions.raise_compiler_error("var 'metric_cutoffs' must hold whole numbers from 1 to var 'top_k' ("
                ~ top_k ~ "), got " ~ cutoff | tojson ~ ("; a list cut at top_k scores the same at every larger K, so"
                ~ " lower metric_cutoffs with top_k" if cutoff | int > top_k else "")) }}
        {%- endif %}
    {%- endfor %}
    {%- if cutoffs | map('int') | unique | list | length < cutoffs | length %}
        {#- a repeated K would give each policy two rows at that K -#}
        {{ exceptions.raise_compiler_error("var 'metric_cutoffs' must not repeat a cutoff, got " ~ cutoffs | tojson) }}
    {%- endif %}
    {{ return(cutoffs | map('int') | list) }}
{% endmacro %}
