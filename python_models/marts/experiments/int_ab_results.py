"""Treatment vs control per experiment × treatment arm × metric: Welch lift and CIs, relative lift with
Fieller's CI, CUPED, Holm across the experiment's tests, and the MDE (all in feedlab.ab_stats)."""
from feedlab.ab_stats import ab_results


def model(dbt, session):
    summaries = dbt.ref("int_ab_arm_summaries").df()
    # The registry's arms, so that an arm whose policy served nobody still gets a row (n 0, NaN statistics).
    arms = dbt.ref("dim_experiments").df()[["experiment_id", "arm"]]
    return ab_results(summaries, arms)
