"""feedlab.ab_stats against SciPy / statsmodels on the same raw numbers (summaries computed here from raw samples)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from feedlab.ab_stats import (
    AB_RESULT_COLUMNS,
    ab_results,
    cuped_adjust,
    minimum_detectable_effect,
    relative_lift_ci,
    srm_checks,
    welch_test,
)


def _arm(rng: np.random.Generator, n: int, mean: float, sd: float, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw per-user (metric y, covariate x) with y correlated with x."""
    x = rng.gamma(4.0, 0.03, size=n)
    y = mean + slope * (x - 0.12) + rng.normal(0, sd, size=n)
    return y, x


def _summary(experiment: str, arm: str, metric: str, y: np.ndarray, x: np.ndarray) -> dict:
    return {
        "experiment_id": experiment, "arm": arm, "metric": metric, "n_users": len(y), "mean_value": y.mean(),
        "variance_value": y.var(ddof=1), "mean_covariate": x.mean(), "variance_covariate": x.var(ddof=1),
        "covariance": np.cov(y, x, ddof=1)[0, 1],
    }


@pytest.fixture(scope="module")
def raw() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20240611)
    return {
        "control": _arm(rng, 800, 7.0, 2.0, 12.0),
        "treatment": _arm(rng, 650, 7.3, 2.6, 14.0),
    }


def test_welch_matches_scipy_and_statsmodels(raw):
    (yc, _), (yt, _) = raw["control"], raw["treatment"]
    out = welch_test([len(yc)], [yc.mean()], [yc.var(ddof=1)], [len(yt)], [yt.mean()], [yt.var(ddof=1)]).iloc[0]
    ref = stats.ttest_ind(yt, yc, equal_var=False)
    assert out.t_statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert out.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert out.df == pytest.approx(ref.df, rel=1e-9)
    low, high = CompareMeans(DescrStatsW(yt), DescrStatsW(yc)).tconfint_diff(alpha=0.05, usevar="unequal")
    assert out.ci_low == pytest.approx(low, rel=1e-9)
    assert out.ci_high == pytest.approx(high, rel=1e-9)
    ci = ref.confidence_interval(0.95)
    assert (out.ci_low, out.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert out.absolute_lift == pytest.approx(yt.mean() - yc.mean(), rel=1e-12)


Z_95 = stats.norm.ppf(0.975)


def test_relative_lift_fieller_ends_solve_its_quadratic_around_the_ratio(raw):
    (yc, _), (yt, _) = raw["control"], raw["treatment"]
    nc, nt, mc, mt, vc, vt = len(yc), len(yt), yc.mean(), yt.mean(), yc.var(ddof=1), yt.var(ddof=1)
    out = relative_lift_ci([nc], [mc], [vc], [nt], [mt], [vt]).iloc[0]
    assert out.relative_lift == pytest.approx(mt / mc - 1, rel=1e-12)
    assert out.relative_ci_low < out.relative_lift < out.relative_ci_high
    # Each end is a ratio rho at which mean_t - rho * mean_c is exactly z standard errors from 0.
    for rho in (out.relative_ci_low + 1, out.relative_ci_high + 1):
        assert abs(mt - rho * mc) / np.sqrt(vt / nt + rho**2 * vc / nc) == pytest.approx(Z_95, rel=1e-9)


def _delta_method_interval(nc, mc, vc, nt, mt, vt) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric first-order interval of mean_t / mean_c - 1 that Fieller's replaced."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a control mean of 0 gives no interval (inf, nan)
        se = np.sqrt(vt / (nt * mc**2) + mt**2 * vc / (nc * mc**4))
        return mt / mc - 1 - Z_95 * se, mt / mc - 1 + Z_95 * se


def test_relative_lift_fieller_tends_to_the_delta_method_for_a_far_from_zero_control_mean():
    args = ([10**8], [7.0], [4.0], [10**8], [7.3], [6.8])
    out = relative_lift_ci(*args).iloc[0]
    low, high = _delta_method_interval(*(np.float64(a[0]) for a in args))
    assert (out.relative_ci_low, out.relative_ci_high) == pytest.approx((low, high), rel=1e-6)


def test_relative_lift_fieller_covers_a_rare_event_ratio_where_the_delta_method_undercovers():
    # A like-rate-sized event: p = 1 % in 1,500 control users, about 3.9 standard errors from 0; true ratio 1.2.
    rng = np.random.default_rng(11)
    n, p_c, ratio, draws = 1500, 0.01, 1.2, 40_000
    mc, mt = rng.binomial(n, p_c, draws) / n, rng.binomial(n, p_c * ratio, draws) / n
    vc, vt = mc * (1 - mc) * n / (n - 1), mt * (1 - mt) * n / (n - 1)
    nn = np.full(draws, n)
    out = relative_lift_ci(nn, mc, vc, nn, mt, vt)
    bounded = out["relative_ci_low"].notna().to_numpy()
    assert bounded.mean() > 0.99
    fieller = ((out.relative_ci_low <= ratio - 1) & (ratio - 1 <= out.relative_ci_high))[bounded].mean()
    low, high = _delta_method_interval(nn, mc, vc, nn, mt, vt)
    delta = np.mean((low <= ratio - 1) & (ratio - 1 <= high))
    # 40,000 draws: a coverage's standard error is about 0.0011.
    assert fieller == pytest.approx(0.95, abs=0.005)
    assert delta < 0.94


def test_relative_lift_interval_is_nan_when_the_control_mean_is_not_significant():
    # mean_c = 0.05 with standard error sqrt(1 / 100) = 0.1: |mean_c| < 1.96 se, so Fieller's set is unbounded.
    out = relative_lift_ci([100], [0.05], [1.0], [100], [0.2], [1.0]).iloc[0]
    assert out.relative_lift == pytest.approx(3.0)
    assert np.isnan(out.relative_ci_low) and np.isnan(out.relative_ci_high)


def test_cuped_lift_equals_ols_arm_coefficient_and_welch_on_adjusted_values(raw):
    (yc, xc), (yt, xt) = raw["control"], raw["treatment"]
    c, t = _summary("e", "control", "m", yc, xc), _summary("e", "treatment", "m", yt, xt)
    keys = ["n_users", "mean_value", "variance_value", "mean_covariate", "variance_covariate", "covariance"]
    adj = cuped_adjust(*([c[k]] for k in keys), *([t[k]] for k in keys)).iloc[0]
    x_bar = np.concatenate([xc, xt]).mean()
    frame = pd.DataFrame({
        "y": np.concatenate([yc, yt]), "arm": np.r_[np.zeros(len(yc)), np.ones(len(yt))],
        "xc": np.concatenate([xc, xt]) - x_bar,
    })
    fit = smf.ols("y ~ arm + xc", data=frame).fit()
    assert adj.theta == pytest.approx(fit.params["xc"], rel=1e-9)
    assert adj.mean_t_adj - adj.mean_c_adj == pytest.approx(fit.params["arm"], rel=1e-9)
    # The adjusted summaries are exactly those of the per-user values y − θ (x − x̄).
    yc_adj, yt_adj = yc - adj.theta * (xc - x_bar), yt - adj.theta * (xt - x_bar)
    assert adj.var_c_adj == pytest.approx(yc_adj.var(ddof=1), rel=1e-9)
    assert adj.var_t_adj == pytest.approx(yt_adj.var(ddof=1), rel=1e-9)

    result = ab_results(pd.DataFrame([c, t])).iloc[0]
    ref = stats.ttest_ind(yt_adj, yc_adj, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert result.cuped_lift == pytest.approx(fit.params["arm"], rel=1e-9)
    assert result.cuped_p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (result.cuped_ci_low, result.cuped_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    se_raw = np.sqrt(yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))
    se_adj = np.sqrt(yt_adj.var(ddof=1) / len(yt) + yc_adj.var(ddof=1) / len(yc))
    assert result.variance_reduction == pytest.approx(1 - se_adj**2 / se_raw**2, rel=1e-9)
    assert result.variance_reduction > 0.1  # the covariate explains a good part of y here


def test_mde_matches_statsmodels_power_solvers():
    # Equal n and variances: Welch df = 2(n − 1), the pooled t-test's df, so TTestIndPower is the exact reference.
    n, sd = 400, 2.5
    mde = minimum_detectable_effect([n], [sd**2], [n], [sd**2])[0]
    d = TTestIndPower().solve_power(effect_size=None, nobs1=n, alpha=0.05, power=0.8, ratio=1.0)
    assert mde == pytest.approx(d * sd, rel=1e-8)
    # Unequal n and variances, large samples: the normal power solver on the same standard error.
    nc, nt, vc, vt = 60_000, 45_000, 4.0, 6.5
    se = np.sqrt(vc / nc + vt / nt)
    mde = minimum_detectable_effect([nc], [vc], [nt], [vt])[0]
    d = NormalIndPower().solve_power(effect_size=None, nobs1=nc, alpha=0.05, power=0.8, ratio=nt / nc)
    sigma = se / np.sqrt(1 / nc + 1 / nt)  # the common sd that gives this standard error
    assert mde == pytest.approx(d * sigma, rel=1e-4)
    assert mde == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se, rel=1e-4)
    # Power at the MDE, evaluated directly, is 80 %.
    pw = TTestIndPower().power(effect_size=minimum_detectable_effect([30], [1.0], [30], [1.0])[0], nobs1=30,
                                alpha=0.05, ratio=1.0)
    assert pw == pytest.approx(0.8, abs=1e-9)


def test_srm_matches_scipy_chisquare():
    counts = pd.DataFrame({
        "experiment_id": ["a", "a", "b", "b", "b"],
        "arm": ["control", "treatment", "control", "t1", "t2"],
        "expected_share": [0.5, 0.5, 0.34, 0.33, 0.33],
        "n_assigned": [5000, 4890, 3400, 3300, 3150],
        "n_exposed": [5000, 4600, 3400, 3300, 3300],
    })
    out = srm_checks(counts).set_index("experiment_id")
    for exp, rows in counts.groupby("experiment_id"):
        for col, suffix in (("n_assigned", "assigned"), ("n_exposed", "exposed")):
            obs = rows[col].to_numpy(float)
            ref = stats.chisquare(obs, rows.expected_share.to_numpy() / rows.expected_share.sum() * obs.sum())
            assert out.loc[exp, f"chi2_{suffix}"] == pytest.approx(ref.statistic, rel=1e-9)
            assert out.loc[exp, f"p_value_{suffix}"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert out.loc["a", "srm_flag"] and out.loc["a", "n_arms"] == 2 and out.loc["a", "n_assigned_total"] == 9890
    assert out.loc["b", "p_value_assigned"] > 0.001 and out.loc["b", "n_arms"] == 3


def test_srm_leaves_a_paused_arm_out_of_the_degrees_of_freedom_until_it_gets_users():
    counts = pd.DataFrame({
        "experiment_id": ["p", "p", "p", "q", "q", "q"],
        "arm": ["control", "paused", "treatment"] * 2,
        "expected_share": [0.5, 0.0, 0.5] * 2,
        "n_assigned": [1055, 0, 945, 1000, 3, 1000],
        "n_exposed": [1055, 0, 945, 1000, 3, 1000],
    })
    out = srm_checks(counts).set_index("experiment_id")
    ref = stats.chisquare([1055, 945])  # the two live arms: 1 degree of freedom, p = 0.0139
    assert out.loc["p", "chi2_assigned"] == pytest.approx(ref.statistic, rel=1e-12)
    assert out.loc["p", "p_value_assigned"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert out.loc["q", "p_value_assigned"] == 0.0 and out.loc["q", "srm_flag"]


def test_srm_does_not_depend_on_row_order():
    """SQL hands the counts over in any order; float sums in a fixed order give the same bits every time."""
    rng = np.random.default_rng(3)
    counts = pd.DataFrame({
        "experiment_id": ["a"] * 7,
        "arm": [f"t{i}" for i in range(7)],
        "expected_share": rng.uniform(0.05, 0.3, 7),
        "n_assigned": rng.integers(900, 1100, 7),
        "n_exposed": rng.integers(800, 1000, 7),
    })
    reference = srm_checks(counts)
    for seed in range(20):
        shuffled = counts.sample(frac=1.0, random_state=seed)
        pd.testing.assert_frame_equal(srm_checks(shuffled), reference, check_exact=True)


def test_result_frame_pairs_arms_and_matches_references(raw):
    rng = np.random.default_rng(11)
    rows, data = [], {}
    arms_of = {"exp": (("control", 0.0), ("t_a", 0.05), ("t_b", -0.02)), "exp2": (("control", 0.0), ("t_a", 0.03))}
    for experiment, arms in arms_of.items():
        for metric, (mean, sd) in {"watch": (7.0, 2.0), "completion": (0.4, 0.1), "like": (0.05, 0.02)}.items():
            for arm, shift in arms:
                y, x = _arm(rng, 300 + 10 * len(rows), mean + shift * mean, sd, 1.0)
                data[experiment, arm, metric] = y
                rows.append(_summary(experiment, arm, metric, y, x))
    out = ab_results(pd.DataFrame(rows).sample(frac=1, random_state=1))
    assert list(out.columns) == AB_RESULT_COLUMNS
    assert len(out) == 9 and not out.duplicated(["experiment_id", "treatment_arm", "metric"]).any()
    for r in out.itertuples():
        ref = stats.ttest_ind(data[r.experiment_id, r.treatment_arm, r.metric],
                              data[r.experiment_id, "control", r.metric], equal_var=False)
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
        assert r.n_control == len(data[r.experiment_id, "control", r.metric])
        assert r.mde_relative == pytest.approx(r.mde_absolute / abs(r.mean_control), rel=1e-12)
    # one family per experiment: every arm's metrics together, and no other experiment's
    for experiment, family in out.groupby("experiment_id"):
        assert len(family) == 3 * (len(arms_of[experiment]) - 1)
        np.testing.assert_allclose(family.p_value_holm, multipletests(family.p_value, method="holm")[1], rtol=1e-12)
    assert (out.is_significant == (out.p_value_holm < 0.05)).all()


def test_degenerate_cases_give_nan_not_errors():
    base = {"metric": "m", "mean_covariate": 0.1, "variance_covariate": 0.01, "covariance": 0.001}
    rows = [
        # e1: zero variance in both arms
        {**base, "experiment_id": "e1", "arm": "control", "n_users": 50, "mean_value": 1.0, "variance_value": 0.0},
        {**base, "experiment_id": "e1", "arm": "treatment", "n_users": 50, "mean_value": 1.5, "variance_value": 0.0},
        # e2: one user in the treatment arm
        {**base, "experiment_id": "e2", "arm": "control", "n_users": 50, "mean_value": 1.0, "variance_value": 0.2},
        {**base, "experiment_id": "e2", "arm": "treatment", "n_users": 1, "mean_value": 1.5, "variance_value": 0.0},
        # e3: no control at all; e4: control with mean 0 and a constant covariate
        {**base, "experiment_id": "e3", "arm": "treatment", "n_users": 40, "mean_value": 1.5, "variance_value": 0.2},
        {**base, "experiment_id": "e4", "arm": "control", "n_users": 40, "mean_value": 0.0, "variance_value": 0.2,
         "variance_covariate": 0.0, "covariance": 0.0},
        {**base, "experiment_id": "e4", "arm": "treatment", "n_users": 40, "mean_value": 0.1, "variance_value": 0.2,
         "variance_covariate": 0.0, "covariance": 0.0},
    ]
    arms = pd.DataFrame({"experiment_id": ["e1", "e1", "e2", "e2", "e3", "e3", "e4", "e4", "e5", "e5"],
                         "arm": ["control", "treatment"] * 5})
    out = ab_results(pd.DataFrame(rows), arms).set_index("experiment_id")
    inferential = ["t_statistic", "df", "p_value", "p_value_holm", "absolute_ci_low", "absolute_ci_high",
                   "relative_ci_low", "relative_ci_high", "mde_absolute", "mde_relative",
                   "cuped_p_value", "variance_reduction"]
    for exp in ("e1", "e2", "e3", "e5"):
        assert out.loc[exp, inferential].isna().all(), exp
        assert not out.loc[exp, "is_significant"]
    assert out.loc["e1", "absolute_lift"] == 0.5 and out.loc["e2", "absolute_lift"] == 0.5
    assert out.loc["e3", "n_control"] == 0 and np.isnan(out.loc["e3", "absolute_lift"])
    assert out.loc["e5", "n_control"] == 0 and out.loc["e5", "n_treatment"] == 0
    # e4: the Welch test is fine, the relative figures and CUPED are not defined.
    assert np.isfinite(out.loc["e4", "p_value"]) and np.isfinite(out.loc["e4", "mde_absolute"])
    undefined = ["relative_lift", "relative_ci_low", "mde_relative", "cuped_lift", "cuped_p_value"]
    assert out.loc["e4", undefined].isna().all()
    # Empty input: an empty frame with the right columns.
    assert list(ab_results(pd.DataFrame(rows).iloc[:0]).columns) == AB_RESULT_COLUMNS
    # SRM with an experiment without users.
    srm = srm_checks(pd.DataFrame({"experiment_id": ["z", "z"], "arm": ["control", "treatment"],
                                   "expected_share": [0.5, 0.5], "n_assigned": [0, 0], "n_exposed": [0, 0]}))
    assert np.isnan(srm.p_value_assigned.iloc[0]) and not srm.srm_flag.iloc[0]
