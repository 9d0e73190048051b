"""The seed notebook's analysis reproduced on the seed-compat world: every printed figure to 4 significant digits."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedlab.errors import FeedlabInputError
from feedlab.seed_notebook import (
    SEED_FIGURES,
    SeedFigures,
    analyse,
    figures_frame,
    gini,
    long_tail_share,
    reproduce_seed_analysis,
    same_to_significant_digits,
    seed_compat_world,
    split_users,
)
from feedlab.world import WorldConfig

SEED = WorldConfig(seed_compat=True)

# The notebook's outputs (TikTok.ipynb, cells 32, 39, 40, 49, 51), written to 4 significant digits.
EXPECTED_4_DIGITS = {
    "control_watch_time_s": "1.473e+01",
    "treatment_watch_time_s": "2.235e+01",
    "uplift_pct": "5.167e+01",
    "p_value": "2.405e-55",
    "creator_gini_treatment": "5.445e-01",
    "long_tail_share_treatment": "4.592e-01",
}


@pytest.fixture(scope="module")
def figures() -> SeedFigures:
    before = np.random.get_state()
    result = reproduce_seed_analysis(SEED)
    after = np.random.get_state()
    # Models run in a long-lived process: the analysis must never draw from (or reseed) np.random's global RNG.
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])
    return result


@pytest.mark.parametrize("name", sorted(EXPECTED_4_DIGITS))
def test_figure_matches_the_notebook_to_4_significant_digits(figures: SeedFigures, name: str):
    assert f"{figures.as_dict()[name]:.3e}" == EXPECTED_4_DIGITS[name]


def test_control_feed_has_equal_creator_exposure(figures: SeedFigures):
    # Everybody in control gets the same 10 videos from 10 different creators: Gini 0, no long tail.
    assert figures.creator_gini_control == pytest.approx(0.0, abs=1e-12)
    assert figures.long_tail_share_control == pytest.approx(0.0, abs=1e-12)


def test_user_42_svd_top5(figures: SeedFigures):
    assert figures.user_42_top5 == (762, 293, 90, 43, 781)


def test_groups_are_a_50_50_split_of_all_users(figures: SeedFigures):
    assert figures.control_values.shape == figures.treatment_values.shape == (1500,)


def test_figures_frame_marks_every_seed_figure_as_matching(figures: SeedFigures):
    frame = figures_frame(figures)
    assert list(frame.columns) == ["figure", "seed_value", "warehouse_value", "matches", "note"]
    assert frame["figure"].tolist() == list(SEED_FIGURES)
    assert frame["matches"].all(), frame.loc[~frame["matches"], ["figure", "seed_value", "warehouse_value"]]
    assert frame["note"].str.contains("in-sample and biased").all()


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
        reproduce_seed_analysis(SEED, tampered)


def test_default_world_is_refused():
    with pytest.raises(FeedlabInputError, match="seed_compat"):
        reproduce_seed_analysis(WorldConfig())


def test_gini_and_long_tail_share_on_small_vectors():
    assert gini(np.array([5, 5, 5])) == pytest.approx(0.0, abs=1e-15)
    assert gini(np.array([0, 0, 0])) == 0.0
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    # 0.8-quantile of [1, 2, 3, 4, 10] is 5.2: creators below it hold 10 of 20 slots.
    assert long_tail_share(np.array([1, 2, 3, 4, 10])) == pytest.approx(0.5)
    assert long_tail_share(np.array([7, 7, 7])) == 0.0


def test_significant_digit_comparison():
    assert same_to_significant_digits(14.734923704109082, 14.7349)
    assert not same_to_significant_digits(14.7349, 14.7449)
    assert same_to_significant_digits(0.0, 1e-16)
    assert not same_to_significant_digits(0.0, 1e-3)


def test_analysis_is_deterministic_on_a_small_world():
    cfg = WorldConfig(n_users=120, n_videos=60, n_creators=15, n_interactions=4000, seed_compat=True)
    interactions, legacy_a = seed_compat_world(cfg)
    _, legacy_b = seed_compat_world(cfg)
    a, b = analyse(interactions, legacy_a), analyse(interactions, legacy_b)
    assert a.as_dict() == b.as_dict()
    assert isinstance(figures_frame(a), pd.DataFrame)
