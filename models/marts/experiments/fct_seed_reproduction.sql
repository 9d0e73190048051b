-- The seed notebook's figures as the warehouse reproduces them, and beside each the honest estimate of the same
-- quantity: the seed's two feeds (popularity by mean watch time vs SVD) served to randomly assigned users of the
-- simulated world (experiment seed_feeds_online, outcomes from the response model) and their creator exposure.
{%- set seed_user = 42 %}
{%- set seed_top_n = 5 %}
{#- The notebook's printed outputs (cells 32, 39, 40, 49, 51), at the precision it printed them. -#}
{%- set seed_figures = [
    ('control_watch_time_s', '14.734923704109082'),
    ('treatment_watch_time_s', '22.347761777615077'),
    ('uplift_pct', '51.66526971146125'),
    ('p_value', '2.4049013695309344e-55'),
    ('creator_gini_control', '0.0'),
    ('creator_gini_treatment', '0.5445474074074075'),
    ('long_tail_share_control', '0.0'),
    ('long_tail_share_treatment', '0.4592'),
    ('user_42_svd_top5_rank1', '762'),
    ('user_42_svd_top5_rank2', '293'),
    ('user_42_svd_top5_rank3', '90'),
    ('user_42_svd_top5_rank4', '43'),
    ('user_42_svd_top5_rank5', '781'),
] %}
{%- set note = 'Seed notebook figure, reproduced as computed there: in-sample and biased. The metric averages the '
    ~ 'watch time the user already logged on recommended videos (no new exposure is simulated), the SVD is fit on '
    ~ 'those same interactions, popularity ranks by the same watch times, and users without a logged view of any '
    ~ 'recommended video drop out. Not an A/B estimate; see the simulated A/B.' %}

with analysis_figures as (

    select * from {{ ref('int_seed_reproduction') }}

),

svd_feeds as (

    select * from {{ python_output('int_seed_svd_feeds') }}

),

reproduced as (

    select figure, warehouse_value from analysis_figures
    union all
    -- the notebook's example of the SVD's output, user 42's top-5 video ids, one figure per rank
    select
        {{ dbt.concat(["'user_" ~ seed_user ~ "_svd_top" ~ seed_top_n ~ "_rank'", 'cast(rank as ' ~ dbt.type_string() ~ ')']) }},
        cast(video_id as double)
    from svd_feeds
    where user_id = {{ seed_user }} and rank <= {{ seed_top_n }}

),

honest_ab as (

    select * from {{ ref('fct_ab_results') }}
    where experiment_id = 'seed_feeds_online' and metric = 'watch_time_per_video'

),

honest_fairness as (

    -- the creator exposure of the feeds that experiment served to each arm's users, as the seed measures its arms
    select arm, gini_exposed, long_tail_share
    from {{ ref('fct_ab_fairness') }}
    where experiment_id = 'seed_feeds_online'

),

seed_figures as (

    {%- for figure, value in seed_figures %}
    select
        cast('{{ figure }}' as {{ dbt.type_string() }}) as figure,
        cast('{{ value }}' as double) as seed_value
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

honest as (

    select 'control_watch_time_s' as figure, mean_control as honest_value from honest_ab
    union all select 'treatment_watch_time_s', mean_treatment from honest_ab
    union all select 'uplift_pct', 100 * relative_lift from honest_ab
    union all select 'p_value', p_value from honest_ab
    union all select {{ dbt.concat(["'creator_gini_'", 'arm']) }}, gini_exposed from honest_fairness
    union all select {{ dbt.concat(["'long_tail_share_'", 'arm']) }}, long_tail_share from honest_fairness

),

compared as (

    select
        seed_figures.figure,
        seed_figures.seed_value,
        reproduced.warehouse_value
    from seed_figures
    left join reproduced on reproduced.figure = seed_figures.figure

)

select
    cast(compared.figure as {{ dbt.type_string() }}) as figure,
    cast(compared.seed_value as double) as seed_value,
    cast(compared.warehouse_value as double) as warehouse_value,
    cast({{ same_to_significant_digits('compared.seed_value', 'compared.warehouse_value') }} as boolean) as matches,
    cast(honest.honest_value as double) as honest_value,
    cast('{{ note }}' as {{ dbt.type_string() }}) as note
from compared
left join honest on honest.figure = compared.figure
