"""Contract, determinism and recovery tests of the four recommendation policies on a tiny planted world."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from feedlab.errors import FeedlabInputError
from feedlab.recsys import OUTPUT_COLUMNS, recommend_svd, recommend_two_stage_lgbm
from recsys_worlds import POLICIES, planted_world

K = 5


@lru_cache(maxsize=None)
def run(policy: str, **extra: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    train, items, _ = planted_world()
    fn, kwargs = POLICIES[policy]
    return fn(train, np.sort(train["user_id"].unique()), K, items=items, **{**kwargs, **extra})


@pytest.mark.parametrize("policy", list(POLICIES))
def test_output_contract(policy: str) -> None:
    train, _, _ = planted_world()
    recs, info = run(policy)
    assert tuple(recs.columns) == OUTPUT_COLUMNS == ("policy", "user_id", "item_id", "rank", "score")
    assert recs.dtypes.to_dict() == {"policy": object, "user_id": np.int64, "item_id": np.int64,
                                     "rank": np.int32, "score": np.float64}
    assert (recs["policy"] == policy).all()
    assert set(recs["user_id"]) == set(train["user_id"])
    assert (recs.groupby("user_id").size() == K).all()
    assert (recs.groupby("user_id")["rank"].apply(list).map(tuple) == tuple(range(1, K + 1))).all()
    assert recs.equals(recs.sort_values(["user_id", "rank"]).reset_index(drop=True))
    assert (recs.groupby("user_id")["score"].diff().dropna() <= 0).all()
    seen = recs.merge(train[["user_id", "item_id"]].drop_duplicates(), on=["user_id", "item_id"])
    assert seen.empty, "recommended an item the user has in training"
    assert np.isfinite(recs["score"]).all()
    assert info["policy"] == policy and info["rows_trained"] == len(train)
    assert info["train_seconds"] >= 0 and isinstance(info["params"], dict)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_deterministic_bit_for_bit(policy: str) -> None:
    train, items, _ = planted_world()
    fn, kwargs = POLICIES[policy]
    again, _ = fn(train.sample(frac=1.0, random_state=3), np.sort(train["user_id"].unique()), K, items=items,
                  **kwargs)
    pd.testing.assert_frame_equal(run(policy)[0], again, check_exact=True)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_threads_do_not_change_the_lists(policy: str, monkeypatch) -> None:
    # many small batches and serving chunks, the same for both runs (a product's float32 rounding may depend on
    # the batch's shape, never on the thread that computes it)
    monkeypatch.setattr("feedlab.recsys.common.SCORE_BUDGET_ELEMENTS", 64)
    monkeypatch.setattr("feedlab.recsys.ranker.SERVE_CHUNK_PAIRS", 300)
    train, items, _ = planted_world()
    fn, kwargs = POLICIES[policy]
    lists = []
    for cores in (1, 3):
        for module in ("svd", "ranker", "two_tower"):
            monkeypatch.setattr(f"feedlab.recsys.{module}.all_cores", lambda: cores)
        lists.append(fn(train, np.sort(train["user_id"].unique()), K, items=items, **kwargs)[0])
    pd.testing.assert_frame_equal(*lists, check_exact=True)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_recovers_planted_top_item(policy: str) -> None:
    recs, _ = run(policy)
    _, _, planted = planted_world()
    top = recs[recs["rank"] == 1].set_index("user_id")["item_id"]
    recovered = (top == planted.reindex(top.index)).mean()
    assert recovered >= 0.9, f"{policy} put the planted item first for only {recovered:.0%} of users"


def servable_half() -> tuple[int, ...]:
    """Every other item of the planted world, as KuaiRec's big-to-small protocol serves only the small matrix."""
    _, items, _ = planted_world()
    return tuple(int(i) for i in np.sort(items["item_id"].to_numpy())[::2])


@pytest.mark.parametrize("policy", list(POLICIES))
def test_serves_only_servable_items(policy: str) -> None:
    train, _, _ = planted_world()
    servable = servable_half()
    recs, _ = run(policy, servable=servable)
    assert set(recs["item_id"]) <= set(servable)
    in_training = set(train["item_id"])
    seen = train.groupby("user_id")["item_id"].agg(set)
    unseen_servable = seen.map(lambda items: len((set(servable) & in_training) - items))
    assert recs.groupby("user_id").size().to_dict() == np.minimum(K, unseen_servable).to_dict()


@pytest.mark.parametrize("policy", list(POLICIES))
def test_whole_catalogue_as_servable_changes_nothing(policy: str) -> None:
    _, items, _ = planted_world()
    everything = tuple(int(i) for i in items["item_id"])
    pd.testing.assert_frame_equal(run(policy, servable=everything)[0], run(policy)[0], check_exact=True)


@pytest.mark.parametrize("objective", ["lambdarank", "binary"])
def test_lgbm_objectives_run(objective: str) -> None:
    recs, info = run("two_stage_lgbm", objective=objective)
    assert info["params"]["objective"] == objective
    assert info["params"]["training_positives"] > 0
    assert (recs.groupby("user_id").size() == K).all()


def test_fewer_unseen_than_k_returns_all_unseen() -> None:
    train, _, _ = planted_world()
    n_items = train["item_id"].nunique()
    greedy = pd.DataFrame({"user_id": np.int64(999), "item_id": np.arange(n_items - 2, dtype=np.int64),
                           "event_at": train["event_at"].iloc[0], "value": 1.0})
    recs, _ = recommend_svd(pd.concat([train, greedy], ignore_index=True), [999], K, n_components=4)
    assert sorted(recs["item_id"]) == [n_items - 2, n_items - 1]
    assert recs["rank"].tolist() == [1, 2]


def test_unknown_user_is_rejected() -> None:
    train, _, _ = planted_world()
    with pytest.raises(FeedlabInputError, match="no training rows"):
        recommend_two_stage_lgbm(train, [123_456], K)


def test_missing_column_is_rejected() -> None:
    train, _, _ = planted_world()
    with pytest.raises(FeedlabInputError, match="value"):
        recommend_svd(train.drop(columns="value"), [0], K)


@pytest.mark.parametrize(("policy", "count"), [("svd", "n_components"), ("two_tower_mse", "epochs"),
                                               ("two_tower_mse", "batch_size"), ("two_tower", "epochs"),
                                               ("two_tower", "batch_size"), ("two_tower", "max_steps")])
def test_a_count_below_one_is_refused_by_name(policy: str, count: str) -> None:
    # once: SVD blamed the matrix's shape, batch 0 divided by zero, 0 epochs served an untrained model
    train, items, _ = planted_world()
    fn, kwargs = POLICIES[policy]
    with pytest.raises(FeedlabInputError, match=f"^{count} must be an integer >= 1, got 0$"):
        fn(train, [0], K, items=items, **{**kwargs, count: 0})
