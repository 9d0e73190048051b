"""Statistics on summaries that SQL has already aggregated: the warehouse sends only small tables through SciPy."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


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
    all equal has std_error 0: t and p are then undefined (NaN) unless the mean difference is 0 too (t 0, p 1),
    and the interval collapses to the mean.
    """
    n = np.asarray(n, dtype=np.float64)
    mean_diff = np.asarray(mean_diff, dtype=np.float64)
    std_error = np.asarray(sd_diff, dtype=np.float64) / np.sqrt(n)
    df = n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        t_statistic = np.where(std_error > 0, mean_diff / std_error, np.where(mean_diff == 0, 0.0, np.nan))
    p_value = 2 * stats.t.sf(np.abs(t_statistic), df)
    half_width = stats.t.ppf(0.5 + confidence / 2, df) * std_error
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
