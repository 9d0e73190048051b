-- The KuaiRec matrix each interaction comes from: the big-to-small protocol trains on the big matrix and evaluates on
-- the fully observed small one (var kuairec_protocol, see int_split).
select
    interaction_id,
    source_matrix
from {{ ref('base_kuairec__interactions') }}
