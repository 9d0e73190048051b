"""Paired comparison of every two policies per metric and K: mean difference, 95 % CI and paired t-test p-value."""
from feedlab.stats import paired_t_summary


def model(dbt, session):
    pairs = dbt.ref("int_policy_pair_differences").df().sort_values(["policy_a", "policy_b", "metric", "k"])
    summary = paired_t_summary(pairs["n_users"], pairs["mean_difference"], pairs["stddev_difference"])
    return pairs.reset_index(drop=True).join(summary)
