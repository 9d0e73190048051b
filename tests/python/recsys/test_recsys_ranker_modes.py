"""two_stage_lgbm label modes: watch-time labels on a world where presence is uninformative, and the fallback to
retrieval order when no held-out interaction can label the ranker; the pooled top-k of the affinity retriever."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from feedlab.errors import FeedlabInputError
from feedlab.recsys import recommend_two_stage_lgbm
from feedlab.recsys.common import encode, interaction_matrix, top_k_unseen, user_codes
from feedlab.recsys.features import item_topics
from feedlab.recsys import ranker
from feedlab.recsys.ranker import AffinityScorer, affinity_scorer

K = 5


def uniform_world(seed: int = 0, n_users: int = 200, n_items: int = 120, n_topics: int = 4,
                  rows_per_user: int = 40) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Uniform (user, item) draws (presence carries nothing); watch time = clip(pref + noise) x length.

    Returns interactions, items and the expected watch time of every (user, item), shape (n_users, n_items)."""
    rng = np.random.default_rng(seed)
    prefs = rng.dirichlet(np.full(n_topics, 0.8), size=n_users)
    topic = rng.integers(0, n_topics, size=n_items)
    length = rng.integers(15, 90, size=n_items).astype(np.float64)
    u = np.repeat(np.arange(n_users), rows_per_user)
    i = rng.integers(0, n_items, size=len(u))
    fraction = np.clip(prefs[u, topic[i]] + rng.normal(0, 0.05, size=len(u)), 0.05, 1.0)
    event_at = np.datetime64("2025-01-01T00:00:00", "s") + rng.permutation(len(u)).astype("timedelta64[s]")
    train = pd.DataFrame({"user_id": u.astype(np.int64), "item_id": i.astype(np.int64), "event_at": event_at,
                          "value": fraction * length[i], "engagement": fraction})
    items = pd.DataFrame({"item_id": np.arange(n_items, dtype=np.int64), "topic_id": topic, "length_s": length})
    return train, items, np.clip(prefs[:, topic], 0.05, 1.0) * length[None, :]


def share_of_oracle(recs: pd.DataFrame, train: pd.DataFrame, expected: np.ndarray, k: int = K) -> float:
    seen = np.zeros_like(expected, dtype=bool)
    seen[train["user_id"], train["item_id"]] = True
    oracle = -np.sort(-np.where(seen, -np.inf, expected), axis=1)[:, :k].sum(axis=1)
    got = np.bincount(recs["user_id"], weights=expected[recs["user_id"], recs["item_id"]],
                      minlength=len(expected))
    return float(got.sum() / oracle.sum())


def test_watch_time_label_learns_what_presence_cannot() -> None:
    train, items, expected = uniform_world()
    users = np.sort(train["user_id"].unique())
    watch, info = recommend_two_stage_lgbm(train, users, K, items=items, label="watch_time", n_candidates=20)
    presence, _ = recommend_two_stage_lgbm(train, users, K, items=items, label="presence", n_candidates=20,
                                           n_rounds=30)
    assert info["params"]["label"] == "watch_time" and info["params"]["objective"] == "regression"
    assert not info["params"]["fallback"]
    assert share_of_oracle(watch, train, expected) >= 0.9
    assert share_of_oracle(presence, train, expected) < 0.8
    assert (watch.groupby("user_id").size() == K).all()
    seen = watch.merge(train[["user_id", "item_id"]].drop_duplicates(), on=["user_id", "item_id"])
    assert seen.empty


@pytest.mark.parametrize("objective", ["regression", "lambdarank"])
def test_watch_time_is_deterministic_bit_for_bit(objective: str) -> None:
    train, items, _ = uniform_world(n_users=60)
    users = np.sort(train["user_id"].unique())
    kwargs = {"items": items, "label": "watch_time", "objective": objective, "n_candidates": 10, "n_rounds": 10}
    first, _ = recommend_two_stage_lgbm(train, users, K, **kwargs)
    again, _ = recommend_two_stage_lgbm(train.sample(frac=1.0, random_state=1), users, K, **kwargs)
    pd.testing.assert_frame_equal(first, again, check_exact=True)


def test_affinity_candidates_hold_the_oracle() -> None:
    train, items, expected = uniform_world()
    enc = encode(train)
    topic, length = item_topics(enc, items)
    rows = user_codes(enc, enc.user_ids)
    seen = interaction_matrix(enc, "binary")
    r, c, _ = top_k_unseen(affinity_scorer(enc, topic, length), seen, rows, 20)
    masked = np.where(seen.toarray() > 0, -np.inf, expected)
    oracle = np.argsort(-masked, axis=1, kind="stable")[:, :K]
    cand = set(zip(r.tolist(), c.tolist()))
    recall = np.mean([(u, i) in cand for u in range(len(oracle)) for i in oracle[u]])
    assert recall >= 0.95


def test_label_and_objective_choices() -> None:
    train, items, _ = uniform_world(n_users=20)
    for label in ("clicks", "auto"):  # auto is resolved per data set upstream (policy_io.lgbm_label_for)
        with pytest.raises(FeedlabInputError, match="label must be one of"):
            recommend_two_stage_lgbm(train, [0], K, items=items, label=label)
    with pytest.raises(FeedlabInputError, match="does not fit"):
        recommend_two_stage_lgbm(train, [0], K, items=items, label="watch_time", objective="binary")
    with pytest.raises(FeedlabInputError, match="does not fit"):
        recommend_two_stage_lgbm(train, [0], K, items=items, label="presence", objective="regression")


@pytest.mark.parametrize("objective", ["regression", "lambdarank"])
def test_watch_time_without_affinity_candidates_serves_with_the_affinity_feature(objective: str) -> None:
    # the ranker learns watch time with the affinity feature whatever n_affinity is; serving once lacked it
    train, items, expected = uniform_world(n_users=60)
    users = np.sort(train["user_id"].unique())
    recs, info = recommend_two_stage_lgbm(train, users, K, items=items, label="watch_time", objective=objective,
                                          n_affinity=0, n_candidates=20, n_rounds=10)
    assert info["params"]["n_affinity"] == 0 and not info["params"]["fallback"]
    assert (recs.groupby("user_id").size() == K).all()
    assert share_of_oracle(recs, train, expected) > 0.5


@pytest.mark.parametrize("count", ["n_candidates", "n_holdout", "n_rounds"])
@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_counts_below_one_are_refused_by_name(count: str, bad: float) -> None:
    train, items, _ = uniform_world(n_users=20)
    with pytest.raises(FeedlabInputError, match=f"^{count} must be an integer >= 1, got {bad!r}$"):
        recommend_two_stage_lgbm(train, [0], K, items=items, **{count: bad})


@pytest.mark.parametrize("count", ["n_affinity", "n_components"])
def test_negative_optional_counts_are_refused_by_name(count: str) -> None:
    train, items, _ = uniform_world(n_users=20)
    with pytest.raises(FeedlabInputError, match=f"^{count} must be an integer >= 0, got -1$"):
        recommend_two_stage_lgbm(train, [0], K, items=items, **{count: -1})


def no_label_world() -> pd.DataFrame:
    """Three users whose held-out items (the last two of four) are never among their single EASE candidate:
    every unseen score ties at 0, so the candidate is the lowest unseen item id (3 for users 1-2, 1 for user 3)."""
    rows = [(1, [1, 2, 7, 8]), (2, [1, 2, 5, 6]), (3, [3, 4, 9, 10])]
    frame = pd.DataFrame([(u, i, t) for u, its in rows for t, i in enumerate(its)],
                         columns=["user_id", "item_id", "day"])
    return pd.DataFrame({"user_id": frame["user_id"].astype(np.int64), "item_id": frame["item_id"].astype(np.int64),
                         "event_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(frame["day"], unit="D"),
                         "value": 1.0})


@pytest.mark.parametrize("label", ["presence", "watch_time"])
def test_no_positive_candidate_falls_back_to_retrieval_order(label: str) -> None:
    train = no_label_world()
    if label == "watch_time":
        train = train.assign(value=0.0)  # no watch time at all: nothing to learn either
    recs, info = recommend_two_stage_lgbm(train, [1, 2, 3], 1, label=label, n_candidates=1, n_components=1)
    assert info["params"]["fallback"] is True
    assert recs["user_id"].tolist() == [1, 2, 3]
    # served in EASE order on all training rows: users 1 and 2 share items 1, 2, so each gets the other's items
    assert recs["item_id"].tolist() == [5, 7, 1]


@pytest.mark.parametrize("restricted", [False, True])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_pooled_affinity_top_k_equals_full_catalogue_ranking(k: int, restricted: bool, monkeypatch) -> None:
    rng = np.random.default_rng(k)
    n_users, n_items, n_slots = 300, 2_000, 6
    affinity = rng.uniform(0.0, 1.0, (n_users, n_slots))
    affinity[:5] = 0.0  # every score ties at 0: ranked by item code, beyond any length-ordered pool
    scale = rng.choice([10.0, 15.0, 15.0 + 1e-7, 30.0, 60.0], n_items)  # ties and float32-equal products
    scorer = AffinityScorer(affinity, rng.integers(0, n_slots, n_items), scale)
    seen_counts = np.where(np.arange(n_users) < 2, 1_500, rng.integers(0, 20, n_users))  # heavy users exceed the pool
    seen = sp.csr_matrix((np.ones(seen_counts.sum(), dtype=np.float32),
                          np.concatenate([rng.choice(n_items, c, replace=False) for c in seen_counts]),
                          np.r_[0, np.cumsum(seen_counts)]), shape=(n_users, n_items))
    rows = np.arange(0, n_users, 2, dtype=np.int64)
    allowed = rng.uniform(size=n_items) < 0.6 if restricted else None  # a servable subset of the catalogue
    widths = []
    monkeypatch.setattr(ranker, "top_k_unseen", lambda f, s, r, kk, *mask: widths.append((s.shape[1], len(r))) or
                        top_k_unseen(f, s, r, kk, *mask))
    pooled = scorer.top_k_unseen(seen, rows, k, allowed)
    full = top_k_unseen(scorer, seen, rows, k, allowed)
    assert widths[0][0] < n_items / 3  # ranked on the pool ...
    assert sum(n for width, n in widths[1:] if width == n_items) <= 10  # ... and few users fell back to the catalogue
    for got, want in zip(pooled, full):
        np.testing.assert_array_equal(got, want)
