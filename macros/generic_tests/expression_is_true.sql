{#- Fails for every row where `expression` (SQL over the model's columns) is false; a null result passes, so a
    figure left undefined (null) is not a failure. E.g. an interval that must contain its estimate:
    expression: "absolute_ci_low <= absolute_lift and absolute_lift <= absolute_ci_high". -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
