"""A/B test statistics from per-arm summaries (SQL aggregates the users; only these small tables reach SciPy).

Every function is vectorised over rows: inputs are 1-d arrays (or Series) of equal length m, one element per
comparison, and outputs have the same length. Inputs are sufficient statistics of each arm:

* ``n``      number of users with a value of the metric,
* ``mean``   mean of the per-user metric,
* ``var``    its sample variance (ddof = 1),
* and for CUPED the mean / sample variance of the pre-period covariate and the sample covariance (ddof = 1) of the
  metric with the covariate.

Conventions (also the degenerate cases, which never raise and never produce a silently wrong number):

* Point estimates (lifts) need n >= 1 in both arms, otherwise NaN. The relative lift is NaN when the control mean is 0.
* Inferential statistics (t, df, p, confidence intervals, MDE) need n >= 2 in both arms and a positive standard error
  of the difference; otherwise they are NaN (two constant arms carry no information on sampling variability, so no
  test is reported, as ``scipy.stats.ttest_ind`` does). The relative lift's interval is also NaN when the control
  mean is not significantly different from 0, where Fieller's confidence set for a ratio is unbounded.
* CUPED additionally needs a positive pooled within-arm covariate variance; otherwise every CUPED column is NaN
  (the adjustment is undefined, and reporting the unadjusted figures under the CUPED name would be misleading).
* Holm's correction runs over the non-NaN p-values of a family; a NaN p-value stays NaN and does not count towards
  the family size.
* SRM p-values are NaN when an experiment has no users at all; the flag is then False (nothing to test).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from feedlab.stats import ArrayLike, holm_adjust

ALPHA = 0.05
POWER = 0.80
SRM_ALPHA = 0.001
CONTROL_ARM = "control"



def _f(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def welch_test(
    n_c: ArrayLike, mean_c: ArrayLike, var_c: ArrayLike,
    n_t: ArrayLike, mean_t: ArrayLike, var_t: ArrayLike,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Welch two-sample comparison of treatment (t) vs control (c) from summaries.

    Parameters: six (m,) arrays (n, mean, sample variance of each arm); alpha of the two-sided test / 1 − alpha CI.

    Returns a DataFrame of m rows: ``absolute_lift`` = mean_t − mean_c, ``std_error`` = sqrt(var_t/n_t + var_c/n_c),
    ``df`` (Welch–Satterthwaite), ``t_statistic``, ``p_value`` (two-sided), ``ci_low``/``ci_high`` (lift ± t quantile
    of df × std_error). Identical to ``scipy.stats.ttest_ind(equal_var=False)`` on the raw values.
    """
    n_c, mean_c, var_c, n_t, mean_t, var_t = map(_f, (n_c, mean_c, var_c, n_t, mean_t, var_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where((n_c >= 1) & (n_t >= 1), mean_t - mean_c, np.nan)
        a_c, a_t = var_c / n_c, var_t / n_t
        se2 = a_c + a_t
        valid = (n_c >= 2) & (n_t >= 2) & (var_c >= 0) & (var_t >= 0) & (se2 > 0) & np.isfinite(se2)
        se = np.where(valid, np.sqrt(np.where(valid, se2, np.nan)), np.nan)
        df = np.where(valid, se2**2 / (a_c**2 / (n_c - 1) + a_t**2 / (n_t - 1)), np.nan)
        t = lift / se
    p = 2 * stats.t.sf(np.abs(t), df)
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return pd.DataFrame(
        {"absolute_lift": lift, "std_error": se, "df": df, "t_statistic": t, "p_value": p,
         "ci_low": lift - half, "ci_high": lift + half}
    )


def relative_lift_ci(
    n_c: ArrayLike, mean_c: ArrayLike, var_c: ArrayLike,
    n_t: ArrayLike, mean_t: ArrayLike, var_t: ArrayLike,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Relative lift mean_t / mean_c − 1 with Fieller's 1 − alpha interval (independent arms).

    Fieller's set is every ratio ρ with (mean_t − ρ·mean_c)² ≤ z²·(s_t² + ρ²·s_c²), where s² = var / n is a mean's
    squared standard error and z = z_(1 − alpha/2). Whatever ρ is, mean_t − ρ·mean_c is normal with mean 0 at the
    true ratio and variance s_t² + ρ²·s_c², so the set covers the true ratio with probability 1 − alpha; the delta
    method's symmetric lift ± z·se undercovers when the control mean is only a few standard errors from 0 (a rare
    event such as like_rate, whose ratio is skewed). The set's ends are the roots of that quadratic,

        ρ = (mean_t·mean_c ± z·sqrt(s_t²·mean_c² + s_c²·mean_t² − z²·s_c²·s_t²)) / (mean_c² − z²·s_c²),

    and it is a bounded interval only when the control mean differs from 0 at level alpha (|mean_c| > z·s_c);
    otherwise the set is unbounded and both ends are NaN. For large samples it tends to the delta-method interval.

    Returns m rows: ``relative_lift``, ``relative_ci_low``, ``relative_ci_high``.
    NaN when mean_c = 0, n < 1 (lift) or n < 2 / zero standard errors / an unbounded set (interval).
    """
    n_c, mean_c, var_c, n_t, mean_t, var_t = map(_f, (n_c, mean_c, var_c, n_t, mean_t, var_t))
    z2 = stats.norm.ppf(1 - alpha / 2) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (n_c >= 1) & (n_t >= 1) & (mean_c != 0)
        rel = np.where(ok, mean_t / mean_c - 1, np.nan)
        se2_c, se2_t = var_c / n_c, var_t / n_t
        leading = mean_c**2 - z2 * se2_c
        discriminant = z2 * (se2_t * mean_c**2 + se2_c * mean_t**2 - z2 * se2_c * se2_t)
        valid = (ok & (n_c >= 2) & (n_t >= 2) & (se2_c >= 0) & (se2_t >= 0) & (se2_c + se2_t > 0)
                 & (leading > 0) & np.isfinite(discriminant))
        # leading > 0 makes the discriminant ≥ z²·se2_t·leading ≥ 0; the clip only guards the last bit.
        half = np.sqrt(np.where(valid, np.maximum(discriminant, 0), np.nan))
        centre = mean_t * mean_c
    return pd.DataFrame(
        {"relative_lift": rel,
         "relative_ci_low": (centre - half) / leading - 1,
         "relative_ci_high": (centre + half) / leading - 1}
    )


def minimum_detectable_effect(
    n_c: ArrayLike, var_c: ArrayLike, n_t: ArrayLike, var_t: ArrayLike,
    alpha: float = ALPHA, power: float = POWER,
) -> np.ndarray:
    """Smallest absolute true lift that the two-sided Welch test at ``alpha`` detects with probability ``power``.

    Uses the observed variances and sample sizes: with se = sqrt(var_c/n_c + var_t/n_t) and Welch df, the MDE is
    λ·se where λ solves P(|T| > t_(1−alpha/2, df)) = power for T ~ noncentral t(df, λ) (both rejection tails
    counted, as statsmodels' power classes do). For equal n and variances this equals
    ``TTestIndPower().solve_power(alpha=alpha, power=power, nobs1=n, ratio=1)`` × the standard deviation; for large
    n it tends to (z_(1−alpha/2) + z_power)·se. Solved by vectorised bisection (to ~1e-14 in λ).

    Returns an (m,) array; NaN where the Welch test is undefined (n < 2, zero standard error).
    Raises ValueError unless 0 < alpha < power < 1.
    """
    if not 0 < alpha < power < 1:
        raise ValueError(f"need 0 < alpha < power < 1, got alpha={alpha}, power={power}")
    n_c, var_c, n_t, var_t = map(_f, (n_c, var_c, n_t, var_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        a_c, a_t = var_c / n_c, var_t / n_t
        se2 = a_c + a_t
        valid = (n_c >= 2) & (n_t >= 2) & (se2 > 0) & np.isfinite(se2)
        df = np.where(valid, se2**2 / (a_c**2 / (n_c - 1) + a_t**2 / (n_t - 1)), np.nan)
    se = np.sqrt(np.where(valid, se2, np.nan))
    if not valid.any():
        return np.full(se.shape, np.nan)
    dfv = df[valid]
    crit = stats.t.ppf(1 - alpha / 2, dfv)

    def achieved(lam: np.ndarray) -> np.ndarray:
        return stats.nct.sf(crit, dfv, lam) + stats.nct.cdf(-crit, dfv, lam)

    lo = np.zeros_like(dfv)
    hi = np.full_like(dfv, 4.0)
    while np.any(short := achieved(hi) < power):  # widen until bracketed (only very small df need it)
        hi = np.where(short, hi * 2, hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        below = achieved(mid) < power
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    lam = np.full(se.shape, np.nan)
    lam[valid] = (lo + hi) / 2
    return lam * se


def cuped_adjust(
    n_c: ArrayLike, mean_c: ArrayLike, var_c: ArrayLike, mean_x_c: ArrayLike, var_x_c: ArrayLike, cov_c: ArrayLike,
    n_t: ArrayLike, mean_t: ArrayLike, var_t: ArrayLike, mean_x_t: ArrayLike, var_x_t: ArrayLike, cov_t: ArrayLike,
) -> pd.DataFrame:
    """CUPED adjustment of both arms' summaries with the pre-period covariate x.

    θ = pooled within-arm covariance / pooled within-arm covariate variance, each pooled over the two arms with
    weights n − 1 (the slope of y on x within arms, i.e. the x coefficient of OLS y ~ arm + x). With x̄ the mean of x
    over both arms' users, each arm's adjusted mean is mean_y − θ (mean_x − x̄) and its adjusted sample variance
    var_y − 2θ cov + θ² var_x: exactly the mean and variance of the per-user values y − θ (x − x̄).

    Parameters: twelve (m,) arrays (control then treatment: n, mean_y, var_y, mean_x, var_x, cov(y, x)).
    Returns m rows: ``theta``, ``mean_c_adj``, ``var_c_adj``, ``mean_t_adj``, ``var_t_adj`` (NaN when θ is undefined:
    n < 2 in either arm or zero pooled covariate variance).
    """
    (n_c, mean_c, var_c, mean_x_c, var_x_c, cov_c, n_t, mean_t, var_t, mean_x_t, var_x_t, cov_t) = map(
        _f, (n_c, mean_c, var_c, mean_x_c, var_x_c, cov_c, n_t, mean_t, var_t, mean_x_t, var_x_t, cov_t)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        w_c, w_t = n_c - 1, n_t - 1
        pooled_cov = (w_c * cov_c + w_t * cov_t) / (w_c + w_t)
        pooled_var_x = (w_c * var_x_c + w_t * var_x_t) / (w_c + w_t)
        ok = (n_c >= 2) & (n_t >= 2) & (pooled_var_x > 0)
        theta = np.where(ok, pooled_cov / pooled_var_x, np.nan)
        x_bar = (n_c * mean_x_c + n_t * mean_x_t) / (n_c + n_t)
        return pd.DataFrame(
            {
                "theta": theta,
                "mean_c_adj": mean_c - theta * (mean_x_c - x_bar),
                # Rounding can push a variance a hair below 0 when y is almost exactly linear in x.
                "var_c_adj": np.maximum(var_c - 2 * theta * cov_c + theta**2 * var_x_c, 0.0),
                "mean_t_adj": mean_t - theta * (mean_x_t - x_bar),
                "var_t_adj": np.maximum(var_t - 2 * theta * cov_t + theta**2 * var_x_t, 0.0),
            }
        )


def srm_test(counts: pd.DataFrame, count_column: str) -> pd.DataFrame:
    """Chi-square goodness-of-fit test of one count column against the expected shares, per experiment.

    ``counts``: rows per experiment_id × arm with ``expected_share`` and ``count_column``. Expected counts are
    share / (sum of the experiment's shares) × the experiment's total. Equals ``scipy.stats.chisquare(observed,
    expected)`` over the k arms with a positive share (k − 1 degrees of freedom). An arm with share 0 (paused) adds
    nothing while it has no users, neither to chi² nor to the degrees of freedom, and makes chi² infinite (p = 0)
    once it has any.

    Returns one row per experiment_id (sorted): ``chi2``, ``p_value`` (NaN when the experiment has no users, or one
    arm with a positive share and none with users outside it). The rows are summed in (experiment_id, arm) order, so
    the same counts in any row order give the same bits.
    """
    counts = counts.sort_values(["experiment_id", "arm"], kind="stable")
    obs = counts[count_column].astype(np.float64)
    share = counts["expected_share"].astype(np.float64)
    g = counts["experiment_id"]
    total = obs.groupby(g).transform("sum")
    expected = share / share.groupby(g).transform("sum") * total
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((expected == 0) & (obs == 0), 0.0, (obs - expected) ** 2 / expected)
    per = pd.DataFrame({"experiment_id": g, "term": term, "total": total, "shared": share > 0}).groupby(
        "experiment_id", sort=True)
    chi2 = per["term"].sum()
    df = (per["shared"].sum() - 1).to_numpy(np.float64)
    n = per["total"].first()
    chi2 = chi2.where(n > 0)
    with np.errstate(invalid="ignore"):
        tail = stats.chi2.sf(chi2.to_numpy(), np.where(df > 0, df, np.nan))
    p = pd.Series(np.where(np.isinf(chi2.to_numpy()), 0.0, tail), index=chi2.index)
    return pd.DataFrame({"chi2": chi2, "p_value": p}).reset_index()


def srm_checks(counts: pd.DataFrame, alpha: float = SRM_ALPHA) -> pd.DataFrame:
    """Sample-ratio-mismatch checks of int_srm_counts-shaped rows (experiment_id, arm, expected_share, n_assigned,
    n_exposed).

    Returns one row per experiment: experiment_id, n_arms, n_assigned_total, n_exposed_total, chi2_assigned,
    p_value_assigned, chi2_exposed, p_value_exposed, srm_flag (either p < alpha; False when both are NaN).
    """
    per = counts.groupby("experiment_id", sort=True)
    out = pd.DataFrame(
        {
            "n_arms": per.size(),
            "n_assigned_total": per["n_assigned"].sum(),
            "n_exposed_total": per["n_exposed"].sum(),
        }
    ).reset_index()
    assigned = srm_test(counts, "n_assigned").rename(columns={"chi2": "chi2_assigned", "p_value": "p_value_assigned"})
    exposed = srm_test(counts, "n_exposed").rename(columns={"chi2": "chi2_exposed", "p_value": "p_value_exposed"})
    out = out.merge(assigned, on="experiment_id").merge(exposed, on="experiment_id")
    out["n_arms"] = out["n_arms"].astype(np.int64)
    out["n_assigned_total"] = out["n_assigned_total"].astype(np.int64)
    out["n_exposed_total"] = out["n_exposed_total"].astype(np.int64)
    out["srm_flag"] = ((out["p_value_assigned"] < alpha) | (out["p_value_exposed"] < alpha)).astype(bool)
    return out


AB_RESULT_COLUMNS = [
    "experiment_id", "treatment_arm", "metric", "n_control", "n_treatment", "mean_control", "mean_treatment",
    "absolute_lift", "absolute_ci_low", "absolute_ci_high", "relative_lift", "relative_ci_low", "relative_ci_high",
    "t_statistic", "df", "p_value", "p_value_holm", "cuped_lift", "cuped_ci_low", "cuped_ci_high", "cuped_p_value",
    "variance_reduction", "mde_absolute", "mde_relative", "is_significant",
]

_SUMMARY_STATS = ["n_users", "mean_value", "variance_value", "mean_covariate", "variance_covariate", "covariance"]


def ab_results(summaries: pd.DataFrame, arms: pd.DataFrame | None = None, alpha: float = ALPHA) -> pd.DataFrame:
    """Treatment-vs-control results, one row per experiment × treatment arm × metric.

    ``summaries``: int_ab_arm_summaries-shaped rows (experiment_id, arm, metric, n_users, mean_value,
    variance_value, mean_covariate, variance_covariate, covariance), with arm 'control' as each experiment's baseline.
    ``arms`` (optional, e.g. dim_experiments): experiment_id, arm rows of the registry. With it, every registered
    non-control arm gets a row for every metric seen in ``summaries``, even an arm (or control) without any user —
    its n is 0 and its statistics NaN; without it, only arms present in ``summaries`` appear.

    Columns: AB_RESULT_COLUMNS (documented with fct_ab_results in models/marts/experiments/_experiments__models.yml).
    Holm's family is every test of one experiment (each treatment arm × metric: the arms of a multi-arm experiment
    share its control and its ship decision); ``is_significant`` is p_value_holm < alpha (False when p is NaN).
    """
    summaries = summaries.copy()
    summaries["experiment_id"] = summaries["experiment_id"].astype(str)
    summaries["arm"] = summaries["arm"].astype(str)
    metrics = pd.DataFrame({"metric": sorted(summaries["metric"].astype(str).unique())})
    if arms is not None:
        treatment_arms = arms.loc[arms["arm"] != CONTROL_ARM, ["experiment_id", "arm"]].astype(str).drop_duplicates()
        grid = treatment_arms.merge(metrics, how="cross")
    else:
        grid = summaries.loc[summaries["arm"] != CONTROL_ARM, ["experiment_id", "arm", "metric"]].drop_duplicates()
    grid = grid.rename(columns={"arm": "treatment_arm"})
    keyed = summaries[["experiment_id", "arm", "metric", *_SUMMARY_STATS]]
    control = keyed[keyed["arm"] == CONTROL_ARM].drop(columns="arm").add_suffix("_c")
    treatment = keyed.add_suffix("_t")
    rows = grid.merge(
        control, how="left", left_on=["experiment_id", "metric"], right_on=["experiment_id_c", "metric_c"]
    ).merge(
        treatment, how="left", left_on=["experiment_id", "treatment_arm", "metric"],
        right_on=["experiment_id_t", "arm_t", "metric_t"],
    )
    rows = rows.sort_values(["experiment_id", "treatment_arm", "metric"]).reset_index(drop=True)
    rows["n_users_c"] = rows["n_users_c"].fillna(0)
    rows["n_users_t"] = rows["n_users_t"].fillna(0)
    c = {s: rows[f"{s}_c"].to_numpy(np.float64) for s in _SUMMARY_STATS}
    t = {s: rows[f"{s}_t"].to_numpy(np.float64) for s in _SUMMARY_STATS}
    basic = ("n_users", "mean_value", "variance_value")

    welch = welch_test(*(c[s] for s in basic), *(t[s] for s in basic), alpha=alpha)
    relative = relative_lift_ci(*(c[s] for s in basic), *(t[s] for s in basic), alpha=alpha)
    mde = minimum_detectable_effect(c["n_users"], c["variance_value"], t["n_users"], t["variance_value"], alpha=alpha)
    adj = cuped_adjust(*(c[s] for s in _SUMMARY_STATS), *(t[s] for s in _SUMMARY_STATS))
    cuped = welch_test(c["n_users"], adj["mean_c_adj"], adj["var_c_adj"],
                       t["n_users"], adj["mean_t_adj"], adj["var_t_adj"], alpha=alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_c = c["mean_value"]
        mde_relative = np.where(mean_c != 0, mde / np.abs(mean_c), np.nan)
        variance_reduction = 1 - cuped["std_error"].to_numpy() ** 2 / welch["std_error"].to_numpy() ** 2

    out = pd.DataFrame(
        {
            "experiment_id": rows["experiment_id"],
            "treatment_arm": rows["treatment_arm"],
            "metric": rows["metric"],
            "n_control": rows["n_users_c"].astype(np.int64),
            "n_treatment": rows["n_users_t"].astype(np.int64),
            "mean_control": c["mean_value"],
            "mean_treatment": t["mean_value"],
            "absolute_lift": welch["absolute_lift"],
            "absolute_ci_low": welch["ci_low"],
            "absolute_ci_high": welch["ci_high"],
            "relative_lift": relative["relative_lift"],
            "relative_ci_low": relative["relative_ci_low"],
            "relative_ci_high": relative["relative_ci_high"],
            "t_statistic": welch["t_statistic"],
            "df": welch["df"],
            "p_value": welch["p_value"],
            "cuped_lift": cuped["absolute_lift"],
            "cuped_ci_low": cuped["ci_low"],
            "cuped_ci_high": cuped["ci_high"],
            "cuped_p_value": cuped["p_value"],
            "variance_reduction": variance_reduction,
            "mde_absolute": mde,
            "mde_relative": mde_relative,
        }
    )
    out["p_value_holm"] = holm_adjust(out["p_value"], out["experiment_id"])
    out["is_significant"] = (out["p_value_holm"] < alpha).astype(bool)
    return out[AB_RESULT_COLUMNS]
