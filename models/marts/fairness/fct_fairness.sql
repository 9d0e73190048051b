-- Creator fairness of every policy's feed at K = 10 and K = var top_k: one row per policy × K (macro
-- creator_fairness; fct_creator_exposure's policy and k are already typed by its contract).
with exposure as (

    select * from {{ ref('fct_creator_exposure') }}

),

servable_items as (

    -- the catalogue policies rank (all items, or KuaiRec's small matrix under big_to_small)
    select * from {{ ref('int_servable_items') }}

),

fairness as (

    {{ creator_fairness('exposure', ['policy', 'k'], 'servable_items') }}

)

select * from fairness
