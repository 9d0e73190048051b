"""feedlab.stats against SciPy on raw data."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from feedlab.stats import paired_t_summary


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


def test_constant_differences_have_no_test_statistic():
    summary = paired_t_summary(np.array([10, 10]), np.array([0.0, 0.2]), np.array([0.0, 0.0]))
    assert summary.t_statistic.iloc[0] == 0 and summary.p_value.iloc[0] == 1
    assert np.isnan(summary.t_statistic.iloc[1]) and np.isnan(summary.p_value.iloc[1])
    assert summary.ci_low.iloc[1] == summary.ci_high.iloc[1] == 0.2
