{#- Standard normal distribution functions in portable SQL (DuckDB 1.5 has no erf / erfc / normal CDF).

    erfc(x) is W. J. Cody's rational Chebyshev approximation ("Rational Chebyshev approximations for the error
    function", Math. Comp. 23, 1969; the SPECFUN CALERF coefficients SciPy also descends from): three ranges of |x|,
    relative error ~1e-15 in double precision, including the tails, which is what Phi((a - p) / sigma) needs.
    (Abramowitz-Stegun 7.1.26 has |error| < 1.5e-7; in the clipped-normal expectation that is up to 2e-6 s of watch
    time per video, too coarse for a 1e-6 cross-check, hence Cody.)
    Dispatched, so an engine with a native erfc can override it (`<adapter>__erfc`). `x` is inlined several times:
    pass a column, not a large expression. -#}
{% macro erfc(x) %}
    {{ return(adapter.dispatch('erfc', 'feedlab')(x)) }}
{% endmacro %}

{%- macro _horner(y, coefficients) -%}
    {#- c0 * y^(n-1) + c1 * y^(n-2) + ... + c(n-1), as nested products -#}
    {%- set ns = namespace(expr=coefficients[0] ~ '') -%}
    {%- for c in coefficients[1:] -%}
        {%- set ns.expr = '(' ~ ns.expr ~ ') * ' ~ y ~ ' + ' ~ c -%}
    {%- endfor -%}
    {{- ns.expr -}}
{%- endmacro -%}

{% macro default__erfc(x) %}
    {%- set y = 'abs(' ~ x ~ ')' -%}
    {%- set ysq = '(' ~ y ~ ' * ' ~ y ~ ')' -%}
    {%- set inv_ysq = '(1.0 / (' ~ y ~ ' * ' ~ y ~ '))' -%}
    {#- exp(-y^2) split as Cody does, exp(-r^2 - (y - r)(y + r)) with r = y rounded down to 1/16, for accuracy.
        r is cast to double: on Spark floor() is a bigint, bigint / 16.0 a DECIMAL(27,6), and its square rounded
        to 6 decimals (r^2 needs 8), ~1e-7 off inside exp(). -#}
    {%- set y16 = '(cast(floor(16.0 * ' ~ y ~ ') as double) / 16.0)' -%}
    {%- set exp_neg_ysq = 'exp(-' ~ y16 ~ ' * ' ~ y16 ~ ' - (' ~ y ~ ' - ' ~ y16 ~ ') * (' ~ y ~ ' + ' ~ y16 ~ '))' -%}
    {%- set a = ['1.85777706184603153e-1', '3.16112374387056560e0', '1.13864154151050156e2',
                 '3.77485237685302021e2', '3.20937758913846947e3'] -%}
    {%- set b = ['1.0', '2.36012909523441209e1', '2.44024637934444173e2', '1.28261652607737228e3',
                 '2.84423683343917062e3'] -%}
    {%- set c = ['2.15311535474403846e-8', '5.64188496988670089e-1', '8.88314979438837594e0',
                 '6.61191906371416295e1', '2.98635138197400131e2', '8.81952221241769090e2',
                 '1.71204761263407058e3', '2.05107837782607147e3', '1.23033935479799725e3'] -%}
    {%- set d = ['1.0', '1.57449261107098347e1', '1.17693950891312499e2', '5.37181101862009858e2',
                 '1.62138957456669019e3', '3.29079923573345963e3', '4.36261909014324716e3',
                 '3.43936767414372164e3', '1.23033935480374942e3'] -%}
    {%- set p = ['1.63153871373020978e-2', '3.05326634961232344e-1', '3.60344899949804439e-1',
                 '1.25781726111229246e-1', '1.60837851487422766e-2', '6.58749161529837803e-4'] -%}
    {%- set q = ['1.0', '2.56852019228982242e0', '1.87295284992346047e0', '5.27905102951428412e-1',
                 '6.05183413124413191e-2', '2.33520497626869185e-3'] -%}
    {%- set erfc_of_abs -%}
        case
            when {{ y }} >= 26.543 then 0.0
            when {{ y }} > 4.0 then
                {{ exp_neg_ysq }}
                * (5.6418958354775628695e-1
                   - {{ inv_ysq }} * ({{ _horner(inv_ysq, p) }}) / ({{ _horner(inv_ysq, q) }}))
                / {{ y }}
            else
                {{ exp_neg_ysq }} * ({{ _horner(y, c) }}) / ({{ _horner(y, d) }})
        end
    {%- endset -%}
    (
        case
            when {{ y }} <= 0.46875 then
                1.0 - {{ x }} * ({{ _horner(ysq, a) }}) / ({{ _horner(ysq, b) }})
            when {{ x }} < 0 then 2.0 - ({{ erfc_of_abs }})
            else {{ erfc_of_abs }}
        end
    )
{% endmacro %}

{#- Standard normal CDF Phi(z) = erfc(-z / sqrt 2) / 2, accurate in both tails. -#}
{% macro normal_cdf(z) %}
    (0.5 * {{ erfc('(-(' ~ z ~ ') * 0.70710678118654752440)') }})
{% endmacro %}

{#- Standard normal density phi(z) = exp(-z^2 / 2) / sqrt(2 pi). -#}
{% macro normal_pdf(z) %}
    (exp(-0.5 * ({{ z }}) * ({{ z }})) * 0.39894228040143267794)
{% endmacro %}

{#- E[clip(mean + e, lower, upper)] for e ~ N(0, sd^2), the expectation of a normal clipped to [lower, upper]:
        lower * Phi(alpha) + upper * (1 - Phi(beta)) + mean * (Phi(beta) - Phi(alpha)) + sd * (phi(alpha) - phi(beta))
    with alpha = (lower - mean) / sd, beta = (upper - mean) / sd. sd = 0 gives clip(mean, lower, upper).
    `z_lower` and `z_upper` are columns already holding alpha and beta (computed by the caller, so that the long
    erfc expression is not inlined around a large one); they may be anything when sd = 0. -#}
{% macro expected_clipped_normal(mean, sd, lower, upper, z_lower, z_upper) %}
    (
        case
            when {{ sd }} <= 0 then least(greatest({{ mean }}, {{ lower }}), {{ upper }})
            else
                {{ lower }} * {{ normal_cdf(z_lower) }}
                + {{ upper }} * {{ normal_cdf('-(' ~ z_upper ~ ')') }}
                + {{ mean }} * ({{ normal_cdf(z_upper) }} - {{ normal_cdf(z_lower) }})
                + {{ sd }} * ({{ normal_pdf(z_lower) }} - {{ normal_pdf(z_upper) }})
        end
    )
{% endmacro %}
