"""Statistical validity of the A/B pipeline on one small built warehouse (calibration, SRM, planted effects).

The warehouse is built once per module (SMALL_WORLD, +fct_ab_user_metrics and the two summary inputs). The
simulations then reuse its real code paths: users are re-assigned with the md5 bucket rule of dim_assignments
(checked here to reproduce the SQL bucket of every shipped assignment), outcomes follow fct_outcomes' synthetic
response model (checked here to reproduce the SQL outcomes exactly, md5 normal draws included) with fresh numpy noise
per simulated experiment, and every statistic comes from feedlab.ab_stats.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from feedlab.ab_stats import ab_results, srm_checks
from feedlab.build import PROJECT_DIR, build

from dbt_helpers import SMALL_WORLD

N_AA = 1000
METRIC = "watch_time_per_video"
EXPERIMENT = "aa_popularity"
VARS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def md5_int(key: str) -> int:
    """The first 32 bits of md5(key) as an integer: the md5_bucket macro before its modulo."""
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16)


def bucket(salt: str, user_id: int) -> int:
    """dim_assignments' bucket: md5(salt || ':' || user_id) into 10,000 buckets."""
    return md5_int(f"{salt}:{user_id}") % 10000


def md5_normal(key: str) -> float:
    """The md5_normal macro: Box–Muller on the md5 uniforms of key || '|u1' and key || '|u2'."""
    u1 = (md5_int(key + "|u1") + 0.5) / 4294967296.0
    u2 = (md5_int(key + "|u2") + 0.5) / 4294967296.0
    return float(np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # As conftest.dbt_build, but module-scoped (one build for every test here) and without the upstream models'
    # data and unit tests (their own test modules run them), which halves the build time.
    tmp = tmp_path_factory.mktemp("ab_validity")
    args = ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
            "--select", "+fct_ab_user_metrics", "+int_ab_arm_summaries", "+int_srm_counts",
            "--indirect-selection", "cautious", "--exclude-resource-type", "test", "unit_test"]
    return build("synthetic", SMALL_WORLD, tmp / "warehouse", args)


@pytest.fixture(scope="module")
def tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    queries = {
        "experiments": "select * from dim_experiments",
        "assignments": "select experiment_id, arm, user_id, bucket from dim_assignments",
        "user_metrics": f"select * from fct_ab_user_metrics where experiment_id = '{EXPERIMENT}'",
        "summaries": "select * from int_ab_arm_summaries",
        "srm_counts": "select * from int_srm_counts",
        # The served popularity feed of the A/A experiment with everything the response model needs.
        "exposures": f"""
            select o.user_id, o.item_id, o.watch_time_s, i.item_length_s, p.preference
            from fct_outcomes o
            join stg_items i on i.item_id = o.item_id
            join sim_user_preferences p on p.user_id = o.user_id and p.topic_id = i.topic_id
            where o.experiment_id = '{EXPERIMENT}'
            order by o.user_id, o.item_id""",
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: con.sql(sql).df() for name, sql in queries.items()}


def summarise(values: np.ndarray, covariate: np.ndarray, treated: np.ndarray, names: list[str]) -> pd.DataFrame:
    """int_ab_arm_summaries rows for many simulated experiments at once.

    values: (s, u) per-user metric of s experiments over the same u users; covariate: (u,); treated: (s, u) bool.
    Returns 2·s rows (experiment_id = names[i], arm control / treatment, metric METRIC).
    """
    rows = []
    for arm, mask in (("control", ~treated), ("treatment", treated)):
        n = mask.sum(axis=1).astype(float)
        w = mask.astype(float)
        mean_y = (values * w).sum(axis=1) / n
        mean_x = (covariate * w).sum(axis=1) / n
        dy, dx = values - mean_y[:, None], covariate[None, :] - mean_x[:, None]
        rows.append(pd.DataFrame({
            "experiment_id": names, "arm": arm, "metric": METRIC, "n_users": n.astype(int), "mean_value": mean_y,
            "variance_value": (dy**2 * w).sum(axis=1) / (n - 1), "mean_covariate": mean_x,
            "variance_covariate": (dx**2 * w).sum(axis=1) / (n - 1), "covariance": (dy * dx * w).sum(axis=1) / (n - 1),
        }))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def aa_world(tables):
    """The A/A population and N_AA re-salted, re-simulated A/A experiments of the popularity feed."""
    exp = tables["experiments"]
    control = exp[(exp.experiment_id == EXPERIMENT) & (exp.arm == "control")].iloc[0]
    exposures = tables["exposures"]
    users, user_index = np.unique(exposures.user_id.to_numpy(), return_inverse=True)
    per_user = np.bincount(user_index)
    pre = tables["user_metrics"].set_index("user_id").loc[users, "pre_engagement"].to_numpy()

    rng = np.random.default_rng(20240611)
    pref, length = exposures.preference.to_numpy(), exposures.item_length_s.to_numpy()
    noise = rng.standard_normal((N_AA, len(exposures)))
    watch_time = np.clip(pref + VARS["noise_sd"] * noise, 0.05, 1.0) * length
    # Per-user mean over the user's feed: (N_AA, exposures) → (N_AA, users).
    values = np.stack([np.bincount(user_index, weights=row) for row in watch_time]) / per_user

    salts = [f"aa-calibration-{i:04d}" for i in range(N_AA)]
    buckets = np.array([[bucket(salt, int(u)) for u in users] for salt in salts])
    treated = ~((buckets >= control.bucket_start) & (buckets < control.bucket_end))
    return {"values": values, "pre": pre, "treated": treated, "salts": salts}


def test_python_assignment_and_outcomes_reproduce_the_warehouse(tables):
    """The simulations below stand on the SQL's own rules: same buckets, same outcome draws, same summaries."""
    exp = tables["experiments"].set_index("experiment_id")["salt"].groupby(level=0).first()
    assignments = tables["assignments"]
    python_buckets = [bucket(exp[e], u) for e, u in zip(assignments.experiment_id, assignments.user_id)]
    assert len(assignments) > 0 and (np.array(python_buckets) == assignments.bucket.to_numpy()).all()

    exposures = tables["exposures"]
    keys = [f"{VARS['outcome_salt']}|{EXPERIMENT}|{u}|{i}" for u, i in zip(exposures.user_id, exposures.item_id)]
    z = np.array([md5_normal(k) for k in keys])
    fraction = np.clip(exposures.preference.to_numpy() + VARS["noise_sd"] * z, 0.05, 1.0)
    np.testing.assert_allclose(fraction * exposures.item_length_s.to_numpy(), exposures.watch_time_s, rtol=1e-9)

    # Python summaries of the shipped A/A split equal the SQL's int_ab_arm_summaries.
    metrics = tables["user_metrics"].sort_values("user_id")
    mine = summarise(metrics[[METRIC]].to_numpy().T, metrics.pre_engagement.to_numpy(),
                     (metrics.arm == "treatment").to_numpy()[None, :], [EXPERIMENT])
    sql = tables["summaries"].query("experiment_id == @EXPERIMENT and metric == @METRIC").sort_values("arm")
    for column in ["n_users", "mean_value", "variance_value", "mean_covariate", "variance_covariate", "covariance"]:
        np.testing.assert_allclose(mine.sort_values("arm")[column].to_numpy(float), sql[column].to_numpy(float),
                                   rtol=1e-9)


def test_aa_false_positive_rate_is_nominal(aa_world):
    results = ab_results(summarise(aa_world["values"], aa_world["pre"], aa_world["treated"], aa_world["salts"]))
    assert len(results) == N_AA and results.p_value.notna().all()
    share = (results.p_value < 0.05).mean()
    cuped_share = (results.cuped_p_value < 0.05).mean()
    print(f"A/A false-positive share at 0.05 over {N_AA} salts: Welch {share:.3f}, CUPED {cuped_share:.3f}")
    assert 0.03 <= share <= 0.07
    assert 0.03 <= cuped_share <= 0.07


def test_planted_effect_is_covered_and_detected_at_the_mde(aa_world):
    values, treated = aa_world["values"], aa_world["treated"]
    delta = 0.3  # seconds per video, about 4 % of the mean
    shifted = ab_results(summarise(values + delta * treated, aa_world["pre"], treated, aa_world["salts"]))
    coverage = ((shifted.absolute_ci_low <= delta) & (delta <= shifted.absolute_ci_high)).mean()
    cuped_coverage = ((shifted.cuped_ci_low <= delta) & (delta <= shifted.cuped_ci_high)).mean()
    print(f"95 % CI coverage of a planted {delta} s lift: Welch {coverage:.3f}, CUPED {cuped_coverage:.3f}")
    assert 0.93 <= coverage <= 0.97
    assert 0.93 <= cuped_coverage <= 0.97

    # A constant shift leaves the variances (hence each experiment's MDE) unchanged: plant exactly the MDE.
    mde = ab_results(summarise(values, aa_world["pre"], treated, aa_world["salts"])).mde_absolute.to_numpy()
    at_mde = ab_results(summarise(values + mde[:, None] * treated, aa_world["pre"], treated, aa_world["salts"]))
    power = (at_mde.p_value < 0.05).mean()
    print(f"Share of experiments detecting a lift equal to their MDE: {power:.3f}")
    assert 0.75 <= power <= 0.85


def test_planted_effect_on_the_shipped_aa_split(tables):
    """The warehouse's own A/A outcomes with Δ added to the treatment users: both CIs cover Δ."""
    delta = 0.5
    metrics = tables["user_metrics"].sort_values("user_id")
    treated = (metrics.arm == "treatment").to_numpy()[None, :]
    values = metrics[[METRIC]].to_numpy().T + delta * treated
    row = ab_results(summarise(values, metrics.pre_engagement.to_numpy(), treated, [EXPERIMENT])).iloc[0]
    assert row.absolute_ci_low <= delta <= row.absolute_ci_high
    assert row.cuped_ci_low <= delta <= row.cuped_ci_high
    aa = ab_results(summarise(values - delta * treated, metrics.pre_engagement.to_numpy(), treated,
                              [EXPERIMENT])).iloc[0]
    assert row.absolute_lift - aa.absolute_lift == pytest.approx(delta, rel=1e-9)
    assert row.cuped_lift - aa.cuped_lift == pytest.approx(delta, rel=1e-9)


def test_srm_flags_a_dropped_share_and_not_an_intact_split(tables):
    counts = tables["srm_counts"]
    intact = srm_checks(counts).set_index("experiment_id")
    assert not intact.loc[EXPERIMENT, "srm_flag"]

    # 300 users cannot reveal a 5 % loss (chi² ≈ 0.0013 · users per arm, > 10.8 needs ≳ 8,500 per arm) ...
    small = counts[counts.experiment_id == EXPERIMENT].copy()
    small.loc[small.arm == "treatment", ["n_assigned", "n_exposed"]] = (
        small.loc[small.arm == "treatment", ["n_assigned", "n_exposed"]] * 0.95).round()
    assert not srm_checks(small).srm_flag.iloc[0]

    # ... a platform-sized population can: hash 200,000 users with the experiment's real salt and bucket ranges.
    exp = tables["experiments"].query("experiment_id == @EXPERIMENT")
    buckets = np.array([bucket(exp.salt.iloc[0], u) for u in range(200_000)])
    n = np.array([((buckets >= r.bucket_start) & (buckets < r.bucket_end)).sum() for r in exp.itertuples()])
    large = pd.DataFrame({"experiment_id": EXPERIMENT, "arm": exp.arm.to_numpy(),
                          "expected_share": (exp.traffic_share / exp.total_share).to_numpy(),
                          "n_assigned": n, "n_exposed": n})
    assert not srm_checks(large).srm_flag.iloc[0]
    treatment = large.arm == "treatment"
    large.loc[treatment, "n_exposed"] = np.round(large.loc[treatment, "n_exposed"] * 0.95).astype(int)
    flagged = srm_checks(large).iloc[0]
    assert flagged.srm_flag and flagged.p_value_exposed < 0.001 and flagged.p_value_assigned > 0.001
