-- The items policies may serve. Under KuaiRec's big_to_small protocol, the small matrix's videos: only their outcomes
-- are observed for the evaluated users, so ranking any other video would score it as a miss it might not be.
{% if kuairec_protocol() == 'big_to_small' %}
select distinct item_id
from {{ ref('int_split') }}
where split <> 'train'
{% else %}
select item_id
from {{ ref('stg_items') }}
{% endif %}
