{#- Float aggregates whose result does not depend on the order the rows are added in.

    DuckDB sums a float column in per-thread partial sums and adds those in whatever order the threads finish, so
    avg / var_samp / covar_samp over more than one row group (122,880 rows) can differ in the last bits from one
    build to the next. These macros sum in fixed point instead: each value times 2^60, an exact scaling, is cast
    to a 38-digit integer and the integers are summed, exactly and associatively; the total is rounded to a double
    once and scaled back. So every build gets the same double, and it is the exact sum rounded once (up to the
    last bit of the engine's integer-to-double conversion), not one of the many sums float additions can give.
    A value below 2^-8 in magnitude loses its bits below 2^-60 (8.7e-19); a value must stay below 8.6e19 in
    magnitude (a product of two, for the second moments).

    The second moments are computed from exact sums, Σxy - Σx·Σy / n, in double: deterministic, but the
    subtraction cancels, so the relative error is about 1e-16 · (1 + |mean_x·mean_y| / |covariance|) rather than
    Welford's. Constant inputs give exactly 0, as var_samp / covar_samp do. -#}

{#- Σ expression over the group's non-null values, as a double (null for no value, as sum). -#}
{% macro exact_sum(expression) -%}
    {#- 2^60 as an e-notation literal: a DOUBLE on DuckDB and Spark alike, parsed exactly -#}
    (cast(sum(cast(({{ expression }}) * 1.152921504606846976e18 as decimal(38, 0))) as double) / 1.152921504606846976e18)
{%- endmacro %}

{#- Mean of the group's non-null values (null for none, as avg). -#}
{% macro exact_avg(expression) -%}
    ({{ exact_sum(expression) }} / nullif(count({{ expression }}), 0))
{%- endmacro %}

{#- Sample covariance over the rows where both are non-null (null below 2 such rows, as covar_samp). -#}
{% macro exact_covar_samp(x, y) -%}
    {%- set paired_x = 'case when (' ~ y ~ ') is not null then ' ~ x ~ ' end' -%}
    {%- set paired_y = 'case when (' ~ x ~ ') is not null then ' ~ y ~ ' end' -%}
    {{- exact_second_moment(paired_x, paired_y) -}}
{%- endmacro %}

{#- Sample variance of the group's non-null values (null below 2 values, as var_samp). -#}
{% macro exact_var_samp(expression) -%}
    {{- exact_second_moment(expression, expression) -}}
{%- endmacro %}

{#- Sample standard deviation of the group's non-null values (null below 2 values, as stddev_samp). -#}
{% macro exact_stddev_samp(expression) -%}
    sqrt({{ exact_var_samp(expression) }})
{%- endmacro %}

{#- (Σxy - Σx·Σy / n) / (n - 1) over rows where x and y are both non-null (the caller pairs them). A variance
    (x is y) is clamped at 0, since the cancellation can leave a tiny negative number. -#}
{% macro exact_second_moment(x, y) -%}
    case
        when count({{ x }}) < 2 then null
        when min({{ x }}) = max({{ x }}){{ ' or min(' ~ y ~ ') = max(' ~ y ~ ')' if x != y }} then cast(0 as double)
        else {{ 'greatest(' if x == y }}
            ({{ exact_sum('(' ~ x ~ ') * (' ~ y ~ ')') }}
                - {{ exact_sum(x) }} * {{ exact_sum(y) }} / count({{ x }})) / (count({{ x }}) - 1)
            {{- ', cast(0 as double))' if x == y }}
    end
{%- endmacro %}
