"""Cross-checks of the fairness and policy-value marts against plain NumPy / SciPy re-implementations.

One small synthetic world is built once for the module (dbt into a temporary folder); every metric of fct_fairness
is recomputed from the same fct_recommendations rows, and fct_policy_value from the world's ground truth with
scipy.stats.norm and a brute-force users × videos oracle.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import special, stats

from dbt_helpers import SMALL_WORLD, query
from feedlab.build import PROJECT_DIR, build

TOP_K = 100
K_LEVELS = (10, TOP_K)
NOISE_SD = 0.1
CLIP_LOWER, CLIP_UPPER = 0.05, 1.0
POLICY_SLOTS = 10
SELECT = ["+fct_fairness", "+fct_lorenz_points", "+fct_policy_value", "+fct_ab_fairness"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small world with the fairness and simulation marts (one build shared by the module's tests)."""
    tmp = tmp_path_factory.mktemp("fairness")
    args = ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
            "--select", *SELECT, "--indirect-selection", "cautious"]
    return build("synthetic", SMALL_WORLD, tmp / "warehouse", args)


# ---- NumPy reference implementations (the seed's formulas) ------------------------------------------------------

def gini(x: np.ndarray) -> float:
    """Seed's Gini of exposures x (n,): 2 Σ i x_(i) / (n Σ x) − (n + 1) / n over x sorted ascending, i 1-based."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    i = np.arange(1, n + 1)
    return 2 * np.sum(i * x) / (n * np.sum(x)) - (n + 1) / n


def long_tail_share(x: np.ndarray) -> float:
    """Seed's rule: share of exposure of creators strictly below the 80th percentile (numpy linear) of exposure."""
    x = np.asarray(x, dtype=float)
    return x[x < np.percentile(x, 80)].sum() / x.sum()


def entropy(x: np.ndarray) -> tuple[float, float]:
    """Shannon entropy in nats of x / Σ x (x of shape (n,), zeros allowed) and the same divided by ln n."""
    p = np.asarray(x, dtype=float) / np.sum(x)
    h = -np.sum(p[p > 0] * np.log(p[p > 0]))
    return h, h / np.log(len(x))


def expected_clipped_normal(p: np.ndarray, sd: float, a: float, b: float) -> np.ndarray:
    """E[clip(p + e, a, b)], e ~ N(0, sd²), elementwise over p of any shape."""
    alpha, beta = (a - p) / sd, (b - p) / sd
    n = stats.norm
    return a * n.cdf(alpha) + b * n.sf(beta) + p * (n.cdf(beta) - n.cdf(alpha)) + sd * (n.pdf(alpha) - n.pdf(beta))


# ---- fairness ---------------------------------------------------------------------------------------------------

def catalog_creators(warehouse: Path) -> list[int]:
    """Creators with at least one item (every item is servable in the synthetic world)."""
    return [c for (c,) in query(warehouse, "select distinct creator_id from stg_items order by creator_id")]


@pytest.fixture(scope="module")
def exposures(warehouse: Path) -> dict[tuple[str, int], np.ndarray]:
    """(policy, K) → exposures of every creator with an item (n_creators,), zeros included, from the raw feeds."""
    creators = catalog_creators(warehouse)
    position = {c: j for j, c in enumerate(creators)}
    rows = query(
        warehouse,
        "select r.policy, r.rank, i.creator_id from fct_recommendations r join stg_items i using (item_id)",
    )
    out: dict[tuple[str, int], np.ndarray] = {}
    for policy in {r[0] for r in rows}:
        for k in K_LEVELS:
            out[(policy, k)] = np.zeros(len(creators))
    for policy, rank, creator_id in rows:
        for k in K_LEVELS:
            if rank <= k:
                out[(policy, k)][position[creator_id]] += 1
    return out


def test_fairness_metrics_match_numpy(warehouse: Path, exposures: dict) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    marts = con.sql("select * from fct_fairness").df().set_index(["policy", "k"])
    n_items = con.sql("select count(*) from stg_items").fetchone()[0]
    items = {
        (policy, k): n
        for policy, k, n in con.sql(
            "select policy, k.k, count(distinct item_id) from fct_recommendations, "
            "(select unnest([10, 100]) as k) k where rank <= k.k group by all"
        ).fetchall()
    }
    con.close()
    assert exposures and set(marts.index) == set(exposures), "one row per policy × K"
    assert len(marts) == len(exposures)
    for (policy, k), x in exposures.items():
        row = marts.loc[(policy, k)]
        exposed = x[x > 0]
        h, h_norm = entropy(x)
        assert row.gini_exposed == pytest.approx(gini(exposed), abs=1e-9), (policy, k)
        assert row.gini_all_creators == pytest.approx(gini(x), abs=1e-9), (policy, k)
        assert row.long_tail_share == pytest.approx(long_tail_share(exposed), abs=1e-9), (policy, k)
        assert row.exposure_entropy_nats == pytest.approx(h, abs=1e-9), (policy, k)
        assert row.exposure_entropy == pytest.approx(h_norm, abs=1e-9), (policy, k)
        assert row.creator_coverage == pytest.approx(len(exposed) / len(x), abs=1e-12)
        assert row.n_creators_exposed == len(exposed)
        assert row.item_coverage == pytest.approx(items[(policy, k)] / n_items, abs=1e-12)
        assert row.total_exposures == x.sum()


def test_creators_without_items_are_not_counted_as_starved(warehouse: Path) -> None:
    without_items = query(warehouse, "select count(*) from stg_creators where creator_id not in "
                                     "(select creator_id from stg_items)")[0][0]
    assert without_items > 0, "the small world should have a creator without videos"
    n_creators = {n for (n,) in query(warehouse, "select distinct n_creators from fct_fairness")}
    assert n_creators == {len(catalog_creators(warehouse))}


def test_arm_fairness_matches_numpy_over_the_served_feeds(warehouse: Path) -> None:
    creators = catalog_creators(warehouse)
    position = {c: j for j, c in enumerate(creators)}
    arms = query(warehouse, "select experiment_id, arm, policy from dim_experiments")
    served = query(warehouse, "select experiment_id, arm, creator_id, item_id from fct_exposures")
    marts = {(r[0], r[1]): r for r in query(
        warehouse,
        "select experiment_id, arm, policy, gini_exposed, gini_all_creators, long_tail_share, exposure_entropy, "
        "exposure_entropy_nats, creator_coverage, item_coverage, total_exposures, n_creators from fct_ab_fairness")}
    n_items = query(warehouse, "select count(*) from stg_items")[0][0]
    assert arms and set(marts) == {(e, a) for e, a, _ in arms}, "one row per experiment × arm"
    for experiment, arm, policy in arms:
        x = np.zeros(len(creators))
        items = set()
        for e, a, creator, item in served:
            if (e, a) == (experiment, arm):
                x[position[creator]] += 1
                items.add(item)
        assert x.sum() > 0, (experiment, arm)
        row = marts[(experiment, arm)]
        exposed = x[x > 0]
        h, h_norm = entropy(x)
        assert row[2] == policy
        assert row[3] == pytest.approx(gini(exposed), abs=1e-9), (experiment, arm)
        assert row[4] == pytest.approx(gini(x), abs=1e-9), (experiment, arm)
        assert row[5] == pytest.approx(long_tail_share(exposed), abs=1e-9), (experiment, arm)
        assert row[6] == pytest.approx(h_norm, abs=1e-9) and row[7] == pytest.approx(h, abs=1e-9)
        assert row[8] == pytest.approx(len(exposed) / len(x), abs=1e-12)
        assert row[9] == pytest.approx(len(items) / n_items, abs=1e-12)
        assert row[10] == x.sum() and row[11] == len(creators)


def test_lorenz_curve_is_monotone_and_gives_the_gini(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    points = con.sql("select * from fct_lorenz_points order by policy, k, point_index").df()
    ginis = con.sql("select policy, k, gini_all_creators from fct_fairness").df().set_index(["policy", "k"])
    con.close()
    assert set(points.groupby(["policy", "k"]).groups) == set(ginis.index) != set(), "a curve per policy × K"
    for (policy, k), curve in points.groupby(["policy", "k"]):
        x, y = curve.cumulative_creator_share.to_numpy(), curve.cumulative_exposure_share.to_numpy()
        assert (x[0], y[0]) == (0.0, 0.0) and x[-1] == pytest.approx(1) and y[-1] == pytest.approx(1)
        assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= -1e-12)
        # Gini = 1 − 2 · area under the Lorenz curve (trapezoids); equals the seed's formula over all creators
        area = np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2)
        assert 1 - 2 * area == pytest.approx(ginis.loc[(policy, k)].gini_all_creators, abs=1e-9)


# ---- policy value -----------------------------------------------------------------------------------------------

def test_closed_form_matches_monte_carlo() -> None:
    """The clipped-normal expectation the mart implements, against simulation of the response model itself."""
    rng = np.random.default_rng(7)
    p = np.array([0.0, 0.03, 0.2, 0.5, 0.9, 0.97, 1.0])
    draws = np.clip(p[:, None] + rng.normal(0, NOISE_SD, size=(p.size, 400_000)), CLIP_LOWER, CLIP_UPPER)
    np.testing.assert_allclose(draws.mean(axis=1), expected_clipped_normal(p, NOISE_SD, CLIP_LOWER, CLIP_UPPER),
                               atol=1e-3)


def test_erfc_macro_matches_scipy(tmp_path: Path) -> None:
    """Cody's erfc as the macro compiles, evaluated by DuckDB over [-30, 30], against scipy.special.erfc (5e-13 relative)."""
    env = {**os.environ, "FEEDLAB_WAREHOUSE": str(tmp_path / "compile.duckdb")}
    dbt = Path(sys.executable).with_name("dbt")
    compiled = subprocess.run(
        [str(dbt), "-q", "compile", "--inline", "select x, {{ erfc('x') }} as y from xs",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    xs = np.concatenate([np.linspace(-30, 30, 60_001), [0.0, 0.46875, -0.46875, 4.0, -4.0, 26.543, 1e-20]])
    con = duckdb.connect()
    con.execute("create table xs as select cast(unnest(?) as double) as x", [xs.tolist()])
    x, y = np.array(con.sql(compiled.strip()).fetchall()).T
    expected = special.erfc(x)
    np.testing.assert_allclose(y, expected, rtol=5e-13, atol=1e-300)


def test_policy_value_matches_scipy_and_brute_force_oracle(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    prefs = con.sql("select user_id, topic_id, preference from sim_user_preferences").fetchnumpy()
    videos = con.sql("select video_id, topic_id, video_length_s from sim_videos order by video_id").fetchnumpy()
    users = np.array([u for (u,) in con.sql("select user_id from int_user_history order by user_id").fetchall()])
    seen = con.sql("select distinct user_id, item_id from int_split where split = 'train'").fetchall()
    recs = con.sql(f"select policy, user_id, item_id from fct_recommendations where rank <= {POLICY_SLOTS}").fetchall()
    mart = con.sql("select * from fct_policy_value").df().set_index("policy")
    con.close()

    n_users, n_topics = prefs["user_id"].max() + 1, prefs["topic_id"].max() + 1
    pref = np.zeros((n_users, n_topics))
    pref[prefs["user_id"], prefs["topic_id"]] = prefs["preference"]
    video_index = {v: j for j, v in enumerate(videos["video_id"])}
    # expected watch time of every (user, video): (n_users, n_videos), fine for the small world
    value = expected_clipped_normal(pref, NOISE_SD, CLIP_LOWER, CLIP_UPPER)[:, videos["topic_id"]] \
        * videos["video_length_s"][None, :]

    masked = value[users].copy()
    row_of = {u: r for r, u in enumerate(users)}
    for u, item in seen:
        masked[row_of[u], video_index[item]] = -np.inf
    oracle = -np.sort(-masked, axis=1)[:, :POLICY_SLOTS]
    oracle = np.where(np.isfinite(oracle), oracle, 0).sum(axis=1)  # (n_users_with_history,)

    per_policy: dict[str, dict[int, float]] = {}
    for policy, u, item in recs:
        per_policy.setdefault(policy, {}).setdefault(u, 0.0)
        per_policy[policy][u] += value[u, video_index[item]]

    assert per_policy and set(mart.index) == set(per_policy) | {"oracle"}
    row = mart.loc["oracle"]
    assert row.n_users == len(users)
    assert row.policy_value_s == pytest.approx(oracle.mean(), abs=1e-6)
    assert row.share_of_oracle == 1.0
    for policy, by_user in per_policy.items():
        u = np.array(sorted(by_user))
        v = np.array([by_user[i] for i in u])
        o = oracle[[row_of[i] for i in u]]
        row = mart.loc[policy]
        assert row.n_users == len(u)
        assert row.policy_value_s == pytest.approx(v.mean(), abs=1e-6), policy
        assert row.oracle_value_s == pytest.approx(o.mean(), abs=1e-6), policy
        assert row.share_of_oracle == pytest.approx(v.mean() / o.mean(), abs=1e-9), policy
        assert row.mean_user_share_of_oracle == pytest.approx(np.mean(v / o), abs=1e-9), policy
