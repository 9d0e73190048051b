{#- Every '|'-separated token of the registry's `datasets` names a data set the project builds: dim_experiments keeps
    an experiment only on the data sets it names, so a typo would drop it from every build without a word. Each known
    token is removed twice (adjacent repeats overlap on their '|'); a row left with more than '|' names an unknown
    one. -#}
{%- set remaining = namespace(sql=dbt.concat(["'|'", "datasets", "'|'"])) %}
{%- for dataset in feedlab_datasets() + feedlab_datasets() %}
    {%- set remaining.sql = "replace(" ~ remaining.sql ~ ", '|" ~ dataset ~ "|', '|')" %}
{%- endfor %}
select experiment_id, arm, datasets
from {{ ref('experiments') }}
where datasets is not null and datasets <> '' and {{ remaining.sql }} <> '|'
