"""feedlab.stats against SciPy on raw data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from feedlab.stats import holm_adjust, paired_t_summary, policy_comparisons


def test_paired_summary_matches_scipy_ttest_rel():
    rng = np.random.default_rng(0)
    a = rng.normal(0.30, 0.1, size=500)
    b = a + rng.normal(0.01, 0.05, size=500)
    diff = b - a
    summary = paired_t_summary(np.array([500]), np.array([diff.mean()]), np.array([diff.std(ddof=1)]))
    reference = stats.ttest_rel(b, a)
    interval = reference.confidence_interval(0.95)
    row = summary.iloc[0]
    assert row.t_statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert row.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert row.ci_low == pytest.approx(interval.low, rel=1e-12)
    assert row.ci_high == pytest.approx(interval.high, rel=1e-12)
    assert row.df == 499


def test_constant_differences_have_no_test():
    # once: equal policies (every difference 0) got t 0, p 1 and the interval [0, 0], as if known exactly
    summary = paired_t_summary(np.array([10, 10]), np.array([0.0, 0.2]), np.array([0.0, 0.0]))
    for column in ("t_statistic", "p_value", "ci_low", "ci_high"):
        assert summary[column].isna().all(), column
    assert (summary.std_error == 0).all()


def test_policy_comparisons_adjust_within_each_metric_and_k():
    rng = np.random.default_rng(1)
    pairs = pd.DataFrame(
        [(a, b, metric, k) for a, b in (("p", "q"), ("p", "r"), ("q", "r")) for metric in ("hit", "ndcg")
         for k in (5, 10)],
        columns=["policy_a", "policy_b", "metric", "k"],
    ).sample(frac=1.0, random_state=0)
    pairs["n_users"] = 200
    pairs["mean_difference"] = rng.normal(0, 0.01, len(pairs))
    pairs["stddev_difference"] = rng.uniform(0.05, 0.1, len(pairs))
    out = policy_comparisons(pairs)
    assert list(out[["policy_a", "policy_b", "metric", "k"]].itertuples(index=False)) == sorted(
        pairs[["policy_a", "policy_b", "metric", "k"]].itertuples(index=False))
    reference = paired_t_summary(out["n_users"], out["mean_difference"], out["stddev_difference"])
    np.testing.assert_array_equal(out["p_value"], reference["p_value"])
    for _, family in out.groupby(["metric", "k"]):
        assert len(family) == 3
        np.testing.assert_allclose(family.p_value_holm, multipletests(family.p_value, method="holm")[1], rtol=1e-12)


def test_holm_matches_statsmodels_per_family():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.1, size=12)
    groups = np.repeat(["a|t", "b|t", "b|u"], [5, 4, 3])
    out = holm_adjust(p, groups)
    for g in np.unique(groups):
        mask = groups == g
        np.testing.assert_allclose(out[mask], multipletests(p[mask], method="holm")[1], rtol=1e-12)
    with_nan = holm_adjust([0.01, np.nan, 0.04], None)
    np.testing.assert_allclose(with_nan[[0, 2]], multipletests([0.01, 0.04], method="holm")[1], rtol=1e-12)
    assert np.isnan(with_nan[1])
