-- Typed, contracted layer over the python model int_srm_checks: BI tools read this table.
select
    cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
    cast(n_arms as bigint) as n_arms,
    cast(n_assigned_total as bigint) as n_assigned_total,
    cast(n_exposed_total as bigint) as n_exposed_total,
    cast(chi2_assigned as double) as chi2_assigned,
    cast(p_value_assigned as double) as p_value_assigned,
    cast(chi2_exposed as double) as chi2_exposed,
    cast(p_value_exposed as double) as p_value_exposed,
    cast(srm_flag as boolean) as srm_flag
from {{ python_output('int_srm_checks') }}
