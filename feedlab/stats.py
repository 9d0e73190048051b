"""Statistics on summaries that SQL has already aggregated: the warehouse sends only small tables through SciPy."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

ArrayLike = np.ndarray | pd.Series | Sequence[float]


def paired_t_summary(
    n: np.ndarray, mean_diff: np.ndarray, sd_diff: np.ndarray, confidence: float = 0.95
) -> pd.DataFrame:
    """Paired t-test and confidence interval from per-pair summaries.

    Parameters
    ----------
    n : (m,) int array, number of paired observations (users) per comparison.
    mean_diff : (m,) float array, mean of the per-user differences.
    sd_diff : (m,) float array, sample standard deviation (ddof=1) of the differences.
    confidence : level of the two-sided interval.

    Returns
    -------
    DataFrame of m rows: std_error, t_statistic, df, p_value, ci_low, ci_high. A comparison whose differences are
    all equal (std_error 0, e.g. two policies that hit the same users) gets no test: t, p and the interval are NaN,
    as in :mod:`feedlab.ab_stats` -- a zero-width interval and p = 1 would claim the difference known exactly.
    """
    n = np.asarray(n, dtype=np.float64)
    mean_diff = np.asarray(mean_diff, dtype=np.float64)
    std_error = np.asarray(sd_diff, dtype=np.float64) / np.sqrt(n)
    df = n - 1
    testable = std_error > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t_statistic = np.where(testable, mean_diff / std_error, np.nan)
    p_value = 2 * stats.t.sf(np.abs(t_statistic), df)
    half_width = np.where(testable, stats.t.ppf(0.5 + confidence / 2, df) * std_error, np.nan)
    return pd.DataFrame(
        {
            "std_error": std_error,
            "t_statistic": t_statistic,
            "df": df,
            "p_value": p_value,
            "ci_low": mean_diff - half_width,
            "ci_high": mean_diff + half_width,
        }
    )


def holm_adjust(p_values: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, within each group (family) of ``groups`` (one family if None).

    Adjusted p of the k-th smallest of the family's m non-NaN p-values = max over j <= k of min(1, (m − j + 1) p_(j)),
    identical to ``statsmodels.stats.multitest.multipletests(method='holm')``. NaN p-values stay NaN and are not
    counted in m. Returns an array aligned with ``p_values``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    keys = np.zeros(len(p), dtype=np.int64) if groups is None else pd.factorize(pd.Series(groups).to_numpy())[0]
    frame = pd.DataFrame({"p": p, "g": keys}).dropna(subset=["p"]).sort_values(["g", "p"], kind="stable")
    m = frame.groupby("g")["p"].transform("size").to_numpy()
    rank = frame.groupby("g").cumcount().to_numpy()
    scaled = pd.Series(np.minimum(1.0, (m - rank) * frame["p"].to_numpy()), index=frame.index)
    adjusted = scaled.groupby(frame["g"].to_numpy()).cummax()
    out = np.full(len(p), np.nan)
    out[adjusted.index.to_numpy()] = adjusted.to_numpy()
    return out


def policy_comparisons(pairs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Paired tests of int_policy_pair_differences-shaped rows (policy_a, policy_b, metric, k, n_users,
    mean_difference, stddev_difference, ...), one row per input row.

    Returns the rows sorted by (policy_a, policy_b, metric, k) with paired_t_summary's columns and ``p_value_holm``:
    Holm's adjustment over every pair compared on one metric at one K, the family a leaderboard of that metric at
    that K reads (NaN p-values stay NaN).
    """
    rows = pairs.sort_values(["policy_a", "policy_b", "metric", "k"], kind="stable").reset_index(drop=True)
    out = rows.join(paired_t_summary(rows["n_users"], rows["mean_difference"], rows["stddev_difference"], confidence))
    out["p_value_holm"] = holm_adjust(out["p_value"], out["metric"].astype(str) + "@" + out["k"].astype(str))
    return out
