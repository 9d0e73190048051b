"""Sample-ratio-mismatch chi-square tests per experiment, on assigned and on exposed users (feedlab.ab_stats)."""
from feedlab.ab_stats import srm_checks


def model(dbt, session):
    return srm_checks(dbt.ref("int_srm_counts").df())
