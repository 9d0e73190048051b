{#- Two-sided p-value P(|T_df| > |t|) of Student's t per row of `relation`, in portable SQL (ln, sqrt, exp, abs):
    returns a subquery with every column of `relation`, `p_value` and the helper columns student_t_y, student_t_b,
    student_t_z, student_t_x, student_t_u. `relation` may be a ref, a source or the name of a CTE of the caller.

    1. The t statistic as a normal deviate z, P(|T_df| > |t|) = 2 Phi(-z): G. W. Hill's asymptotic expansion
       (Algorithm 395, "Student's t-distribution", Comm. ACM 13(10), 1970, its large-df branch):
           a = df - 1/2,  b = 48 a^2,  y = a ln(1 + t^2 / df)
           z = (1 + (y + 3 + (-85.5 - 24 y - 3.3 y^2 - 0.4 y^3) / (0.8 y^2 + 100 + b)) / b) * sqrt(y)
    2. 2 Phi(-z) = erfc(x), x = z / sqrt 2, by the Chebyshev fit of Numerical Recipes (Press et al., 2nd ed., 6.2,
       erfcc), relative error < 1.2e-7 for every x >= 0, far tail included: with u = 1 / (1 + x / 2),
           erfc(x) = u exp(-x^2 - 1.26551223 + u (1.00002368 + u (0.37409196 + ... + u 0.17087277)))
       (Cody's erfc in macros/fairness/normal_distribution.sql is accurate to 1e-15, but it is a ~600-node
       expression that DuckDB takes milliseconds to bind; a p-value needs 4 significant digits.)
    Each step is a column of its own subquery, so that no expression is inlined into another.
    Relative error of p_value against scipy.stats.t.sf for |t| <= 40 (tests/python/test_seed_notebook.py):
    < 1e-4 for df >= 100, < 1e-5 for df >= 300, < 3e-7 for df >= 1000 -- where the normal approximation is off by
    orders of magnitude in the tail. Below df = 100 the expansion is too coarse for a reported p-value: p_value is
    null there (a small-df t tail needs the incomplete beta function, e.g. SciPy in a python model). -#}
{% macro student_t_p_value(relation, t, df) %}
    {#- Literals in e-notation: DOUBLE on DuckDB and Spark alike (a plain 0.4 is a DECIMAL each engine must cast,
        which doubles DuckDB's binding time of this expression). -#}
    {%- set coefficients = ['1.7087277e-1', '-8.2215223e-1', '1.48851587e0', '-1.13520398e0', '2.7886807e-1',
                            '-1.8628806e-1', '9.678418e-2', '3.7409196e-1', '1.00002368e0', '-1.26551223e0'] -%}
    select
        *,
        student_t_u * exp(-student_t_x * student_t_x + {{ _horner('student_t_u', coefficients) }}) as p_value
    from (
        select
            *,
            student_t_z * 7.0710678118654752e-1 as student_t_x,
            1e0 / (1e0 + 3.5355339059327376e-1 * student_t_z) as student_t_u
        from (
            select
                *,
                case
                    when {{ df }} >= 100 then
                        (1e0 + (student_t_y + 3e0
                                + (((-4e-1 * student_t_y - 3.3e0) * student_t_y - 2.4e1) * student_t_y - 8.55e1)
                                  / (8e-1 * student_t_y * student_t_y + 1e2 + student_t_b)) / student_t_b)
                        * sqrt(student_t_y)
                end as student_t_z
            from (
                select
                    *,
                    (cast({{ df }} as double) - 5e-1) * ln(1e0 + {{ t }} * {{ t }} / {{ df }}) as student_t_y,
                    4.8e1 * (cast({{ df }} as double) - 5e-1) * (cast({{ df }} as double) - 5e-1) as student_t_b
                from {{ relation }}
            ) as student_t_deviates
        ) as student_t_normal
    ) as student_t_tails
{% endmacro %}
