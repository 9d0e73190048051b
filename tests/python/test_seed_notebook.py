"""The seed notebook's analysis on the seed-compat world: the Python steps (SVD feeds, split) and the SQL macros.

The figures themselves are computed in SQL (int_seed_feeds, int_seed_reproduction); test_dbt_foundation builds them
and checks every printed figure to 4 significant digits.
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

from feedlab.errors import FeedlabInputError
from feedlab.seed_notebook import (
    FEED_SIZE,
    SVD_FEED_COLUMNS,
    seed_compat_world,
    seed_svd_feeds,
    split_users,
    svd_feeds,
)
from feedlab.world import WorldConfig

SEED = WorldConfig(seed_compat=True)
PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def feeds():
    before = np.random.get_state()
    result = seed_svd_feeds(SEED)
    after = np.random.get_state()
    # Models run in a long-lived process: the analysis must never draw from (or reseed) np.random's global RNG.
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])
    return result


def test_user_42_svd_top5(feeds):
    top5 = feeds[(feeds["user_id"] == 42) & (feeds["rank"] <= 5)].sort_values("rank")["video_id"]
    assert tuple(top5) == (762, 293, 90, 43, 781)


def test_every_user_has_a_full_svd_list_and_a_50_50_arm(feeds):
    assert list(feeds.columns) == SVD_FEED_COLUMNS
    per_user = feeds.groupby("user_id").agg(n=("rank", "size"), arms=("arm", "nunique"), videos=("video_id", "nunique"))
    assert (per_user["n"] == FEED_SIZE).all() and (per_user["arms"] == 1).all() and (per_user["videos"] == FEED_SIZE).all()
    users_per_arm = feeds.drop_duplicates("user_id")["arm"].value_counts()
    assert users_per_arm.to_dict() == {"control": 1500, "treatment": 1500}


def test_split_continues_the_legacy_stream_not_a_fresh_one():
    # The split is np.random.shuffle right after generation: a fresh RandomState(42) gives other groups.
    interactions, legacy = seed_compat_world(SEED)
    users = np.unique(interactions["user_id"].to_numpy())
    continued, _ = split_users(users, legacy)
    fresh, _ = split_users(users, np.random.RandomState(42))
    assert not np.array_equal(np.sort(continued), np.sort(fresh))


def test_warehouse_interactions_that_differ_are_rejected():
    interactions, _ = seed_compat_world(SEED)
    tampered = interactions.copy()
    tampered.loc[5, "video_id"] = (tampered.loc[5, "video_id"] + 1) % SEED.n_videos
    with pytest.raises(FeedlabInputError, match="video_id differs"):
        seed_svd_feeds(SEED, tampered)


def test_default_world_is_refused():
    with pytest.raises(FeedlabInputError, match="seed_compat"):
        seed_svd_feeds(WorldConfig())


def test_feeds_are_deterministic_on_a_small_world():
    cfg = WorldConfig(n_users=120, n_videos=60, n_creators=15, n_interactions=4000, seed_compat=True)
    interactions, legacy_a = seed_compat_world(cfg)
    _, legacy_b = seed_compat_world(cfg)
    a, b = svd_feeds(interactions, legacy_a), svd_feeds(interactions, legacy_b)
    assert a.equals(b)
    assert interactions["video_length_s"].between(15, 89).all()


# ---- SQL macros (compiled by dbt, evaluated by DuckDB) ------------------------------------------------------------

def compile_inline(sql: str, tmp_path: Path) -> str:
    env = {**os.environ, "FEEDLAB_WAREHOUSE": str(tmp_path / "compile.duckdb")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "-q", "compile", "--inline", sql,
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()


def test_student_t_p_value_macro_matches_scipy(tmp_path: Path) -> None:
    """Hill's expansion + the Chebyshev erfc, against scipy.stats.t, over |t| <= 40 (far tails included)."""
    compiled = compile_inline("select t, df, p_value from ({{ student_t_p_value('grid', 't', 'df') }}) as p", tmp_path)
    bounds = {100: 1e-4, 300: 1e-5, 1000: 3e-7, 2083: 3e-7, 10_000: 3e-7, 30: None}
    t = np.concatenate([np.linspace(0.0, 40.0, 2001), [-16.145982983877015, 16.145982983877015]])
    grid = [(float(x), float(df)) for df in bounds for x in t]
    con = duckdb.connect()
    con.execute("create table grid (t double, df double)")
    con.executemany("insert into grid values (?, ?)", grid)
    rows = np.array(con.sql(compiled).fetchall(), dtype=float)
    for df, bound in bounds.items():
        mine = rows[rows[:, 1] == df]
        if bound is None:
            assert np.isnan(mine[:, 2]).all()  # too few degrees of freedom: null, never a coarse p-value
            continue
        exact = 2 * stats.t.sf(np.abs(mine[:, 0]), df)
        tail = exact > 1e-300
        np.testing.assert_allclose(mine[tail, 2], exact[tail], rtol=bound, atol=0)
    # The seed's t-test (t = 16.146, df = 2083): p = 2.4049e-55, as scipy's ttest_ind gives it.
    seed = rows[(rows[:, 1] == 2083) & (rows[:, 0] == 16.145982983877015), 2]
    assert seed == pytest.approx(2.4049013695309246e-55, rel=2e-7)


def test_chebyshev_erfc_step_is_accurate_in_the_far_tail(tmp_path: Path) -> None:
    """The erfc step alone: p_value against scipy's erfc(z / sqrt 2) of the macro's own z (1.2e-7 relative)."""
    compiled = compile_inline(
        "select student_t_z, p_value from ({{ student_t_p_value('grid', 't', 'df') }}) as p", tmp_path
    )
    con = duckdb.connect()
    con.execute("create table grid as select cast(unnest(?) as double) as t, cast(1e6 as double) as df",
                [np.linspace(0.0, 37.0, 3701).tolist()])
    z, p = np.array(con.sql(compiled).fetchall(), dtype=float).T
    np.testing.assert_allclose(p, special.erfc(z / np.sqrt(2)), rtol=1.2e-7, atol=0)


@pytest.fixture(scope="module")
def significant_digits_sql(tmp_path_factory) -> str:
    return compile_inline(
        "select {{ same_to_significant_digits('a', 'b') }} from (select cast(? as double) as a, cast(? as double) as b) as x",
        tmp_path_factory.mktemp("significant_digits"),
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (14.734923704109082, 14.7349, True),
        (14.7349, 14.7449, False),
        (2.4049013695309344e-55, 2.404901544077152e-55, True),
        (2.4049e-55, 2.4059e-55, False),
        (9.9996, 10.0001, True),  # rounds to 1.000e+01 on both sides
        (-0.5445, 0.5445, False),
        (0.0, 1e-16, True),
        (1e-16, 0.0, True),
        (0.0, 1e-3, False),
        (1e-30, 2e-30, False),  # tiny but not zero: compared by mantissa
        (762.0, 762.0, True),
        (762.0, 763.0, False),
    ],
)
def test_same_to_significant_digits_macro(significant_digits_sql: str, a: float, b: float, expected: bool) -> None:
    assert duckdb.connect().execute(significant_digits_sql, [a, b]).fetchone()[0] is expected
