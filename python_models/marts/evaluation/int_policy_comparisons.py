"""Paired comparison of every two policies per metric and K: mean difference, 95 % CI, paired t-test p-value and
its Holm adjustment across the pairs compared at that metric and K."""
from feedlab.stats import policy_comparisons


def model(dbt, session):
    return policy_comparisons(dbt.ref("int_policy_pair_differences").df())
