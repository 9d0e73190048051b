{#- True when `a` and `b` agree to `digits` significant digits: their mantissas at a's decimal exponent, rounded to
    digits - 1 decimals, are equal (and the signs too). When either is exactly 0, both must be below 1e-12 in
    magnitude (rounding leaves a computed zero a hair off). Tiny non-zero values are compared by their mantissas like
    any other (a p-value of 2.4049e-55 does not match 2.4059e-55). Null when either is null. `a` and `b` are inlined
    several times: pass columns. -#}
{% macro same_to_significant_digits(a, b, digits=4) %}
    {%- set scale = 'power(10.0, floor(log10(abs(' ~ a ~ '))))' -%}
    (
        case
            when {{ a }} is null or {{ b }} is null then null
            when {{ a }} = 0 or {{ b }} = 0
                then abs({{ a }}) < 1e-12 and abs({{ b }}) < 1e-12
            else ({{ a }} < 0) = ({{ b }} < 0)
                and round({{ a }} / {{ scale }}, {{ digits - 1 }}) = round({{ b }} / {{ scale }}, {{ digits - 1 }})
        end
    )
{% endmacro %}
