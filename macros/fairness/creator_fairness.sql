{#- Creator fairness of an exposure table, one row per group. `relation` (a ref or the name of a CTE of the calling
    model) has the `group_by` columns, creator_id, exposures and n_items_exposed: one row per group × creator of the
    catalog, with 0 for a creator the group never served. `catalog_items` is the relation of the servable items.
    Returns a subquery: the group_by columns, then
    * n_creators, n_creators_exposed (exposures > 0), total_exposures, n_items_recommended (sum of n_items_exposed:
      an item has one creator), n_items_catalog;
    * gini_exposed, long_tail_share and long_tail_threshold over the exposed creators (the seed's figures), and
      gini_all_creators over every row (macro exposure_concentration);
    * creator_coverage = n_creators_exposed / n_creators, item_coverage = n_items_recommended / n_items_catalog;
    * exposure_entropy (normalised by ln n_creators) and exposure_entropy_nats (macro exposure_entropy);
    each cast to the type the contracted marts declare (bigint counts, double figures). -#}
{% macro creator_fairness(relation, group_by, catalog_items) %}
    {%- set groups = group_by | join(', ') -%}
    select
        {%- for column in group_by %}
        counts.{{ column }},
        {%- endfor %}
        cast(counts.n_creators as bigint) as n_creators,
        cast(counts.n_creators_exposed as bigint) as n_creators_exposed,
        cast(counts.total_exposures as bigint) as total_exposures,
        cast(counts.n_items_recommended as bigint) as n_items_recommended,
        cast(catalog.n_items_catalog as bigint) as n_items_catalog,
        cast(exposed_concentration.gini as double) as gini_exposed,
        cast(all_creators_concentration.gini as double) as gini_all_creators,
        cast(exposed_concentration.long_tail_share as double) as long_tail_share,
        cast(exposed_concentration.long_tail_threshold as double) as long_tail_threshold,
        cast(counts.n_creators_exposed as double) / nullif(counts.n_creators, 0) as creator_coverage,
        cast(counts.n_items_recommended as double) / nullif(catalog.n_items_catalog, 0) as item_coverage,
        cast(entropy.entropy_normalized as double) as exposure_entropy,
        cast(entropy.entropy_nats as double) as exposure_entropy_nats
    from (
        select
            {{ groups }},
            count(*) as n_creators,
            sum(case when exposures > 0 then 1 else 0 end) as n_creators_exposed,
            sum(exposures) as total_exposures,
            sum(n_items_exposed) as n_items_recommended
        from {{ relation }}
        group by {{ groups }}
    ) as counts
    cross join (select count(*) as n_items_catalog from {{ catalog_items }}) as catalog
    left join (
        {{ exposure_concentration('(select * from ' ~ relation ~ ' where exposures > 0) as exposed', 'exposures', group_by) }}
    ) as exposed_concentration
        on {{ _same_group('counts', 'exposed_concentration', group_by) }}
    left join (
        {{ exposure_concentration(relation, 'exposures', group_by) }}
    ) as all_creators_concentration
        on {{ _same_group('counts', 'all_creators_concentration', group_by) }}
    left join (
        {{ exposure_entropy(relation, 'exposures', group_by) }}
    ) as entropy
        on {{ _same_group('counts', 'entropy', group_by) }}
{% endmacro %}

{%- macro _same_group(left, right, group_by) -%}
    {%- for column in group_by -%}
        {{ left }}.{{ column }} = {{ right }}.{{ column }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro -%}
