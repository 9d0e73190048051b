-- Top creators gaining exposure under personalization: which creators does the SVD feed lift most compared with
-- the popularity feed, and who loses?
--
-- fct_creator_exposure at feed depth K = 10 (the served feed): each creator's slots under the baseline and the
-- personalised policy, the change in slots and in share of all exposure. The 25 largest gains first; change the
-- order to `exposure_change asc` for the largest losers. Creators never served by either policy are left out.
-- Edit the two policy names below to compare any pair (any policy of fct_recommendations).
--
-- Run: dbt compile -s top_creators_gaining_exposure
--      duckdb -readonly warehouse/synthetic.duckdb < target/compiled/feedlab/analyses/top_creators_gaining_exposure.sql
{%- set baseline_policy = 'popularity' %}
{%- set personalised_policy = 'svd' %}
{%- set feed_depth = 10 %}

with exposure as (

    select policy, creator_id, exposures, exposure_share
    from {{ ref('fct_creator_exposure') }}
    where k = {{ feed_depth }}
      and policy in ('{{ baseline_policy }}', '{{ personalised_policy }}')

),

pivoted as (

    select
        creator_id,
        cast(coalesce(sum(case when policy = '{{ baseline_policy }}' then exposures end), 0)
            as {{ dbt.type_bigint() }}) as baseline_exposures,
        cast(coalesce(sum(case when policy = '{{ personalised_policy }}' then exposures end), 0)
            as {{ dbt.type_bigint() }}) as personalised_exposures,
        coalesce(sum(case when policy = '{{ baseline_policy }}' then exposure_share end), 0) as baseline_share,
        coalesce(sum(case when policy = '{{ personalised_policy }}' then exposure_share end), 0)
            as personalised_share
    from exposure
    group by creator_id

)

select
    pivoted.creator_id,
    creators.creator_name,
    '{{ baseline_policy }}' as baseline_policy,
    '{{ personalised_policy }}' as personalised_policy,
    pivoted.baseline_exposures,
    pivoted.personalised_exposures,
    pivoted.personalised_exposures - pivoted.baseline_exposures as exposure_change,
    pivoted.personalised_share - pivoted.baseline_share as share_change
from pivoted
left join {{ ref('stg_creators') }} as creators on creators.creator_id = pivoted.creator_id
where pivoted.baseline_exposures > 0 or pivoted.personalised_exposures > 0
order by exposure_change desc, pivoted.creator_id
limit 25
