"""Two-stage recommender: EASE (or SVD on large catalogues) retrieves candidates, LightGBM re-ranks them.

Training never sees the caller's test data: labels come from a time split inside the training rows. Each user's
last ``n_holdout`` training interactions are positives; candidates and features are built from the rows before
that cut only. At serving time candidates and features are rebuilt on all training rows with the same code.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from feedlab.errors import FeedlabInputError
from feedlab.recsys.common import (Interactions, check_k, encode, interaction_matrix, rank_by_score, recs_frame,
                                   run_info, top_k_unseen, user_codes)
from feedlab.recsys.features import CATEGORICAL, item_topics, last_rows, pair_features, time_split
from feedlab.recsys.retrieval import fit_ease, gather, matrix_scorer
from feedlab.recsys.svd import fit_svd

OBJECTIVES = ("lambdarank", "binary")


@dataclass(frozen=True)
class RetrievalConfig:
    """Candidate generation: ``n_candidates`` per user from EASE(``ease_l2``) when the catalogue has at most
    ``ease_max_items`` items (dense item x item weights), otherwise from PureSVD; ``recent_n`` last items feed the
    session-style EASE score; ``n_components`` is the rank of the PureSVD score feature."""

    n_candidates: int = 100
    ease_l2: float = 100.0
    ease_max_items: int = 15_000
    n_components: int = 30
    recent_n: int = 5
    random_state: int = 42


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs sorted by (user, retrieval rank): codes ``rows``/``cols`` of shape (n,), int64, and their
    features of shape (n, n_features)."""

    rows: np.ndarray
    cols: np.ndarray
    features: pd.DataFrame


def build_candidates(hist: Interactions, rows: np.ndarray, topic: np.ndarray, length: np.ndarray,
                     cfg: RetrievalConfig) -> Candidates:
    """Retrieve top candidates of users ``rows`` (ascending codes) from ``hist`` and compute their features."""
    matrix = interaction_matrix(hist, "binary")
    svd = fit_svd(matrix, cfg.n_components, cfg.random_state)
    if hist.n_items <= cfg.ease_max_items:
        weights = fit_ease(matrix, cfg.ease_l2)
        primary = matrix_scorer(matrix, weights)
        recent = matrix_scorer(interaction_matrix(hist.subset(last_rows(hist, cfg.recent_n)), "binary"), weights)
    else:
        primary, recent = svd.score, None
    r, c, score = top_k_unseen(primary, matrix, rows, cfg.n_candidates)
    feats = pair_features(hist, topic, length, r, c)
    starts = np.searchsorted(r, r, side="left")
    feats["retrieval_score"] = score
    feats["retrieval_rank"] = (np.arange(len(r)) - starts + 1).astype(np.float64)
    feats["svd_score"] = gather(svd.score, r, c, hist.n_items)
    feats["recent_score"] = np.nan if recent is None else gather(recent, r, c, hist.n_items)
    return Candidates(r, c, feats)


def training_examples(enc: Interactions, topic: np.ndarray, length: np.ndarray, cfg: RetrievalConfig,
                      n_holdout: int) -> tuple[Candidates, np.ndarray]:
    """Candidates built from the rows before each user's cut, labelled 1 when the item is among the user's
    held-out last ``n_holdout`` rows; only users with at least one positive candidate are kept.

    Returns the candidates and labels of shape (n,), float64.
    """
    held = time_split(enc, n_holdout)
    hist = enc.subset(~held)
    positives = sp.csr_matrix((np.ones(int(held.sum()), dtype=np.float32), (enc.user[held], enc.item[held])),
                              shape=(enc.n_users, enc.n_items))
    cand = build_candidates(hist, np.unique(enc.user[held]).astype(np.int64), topic, length, cfg)
    label = (np.asarray(positives[cand.rows, cand.cols]).ravel() > 0).astype(np.float64)
    has_pos = np.bincount(cand.rows, weights=label, minlength=enc.n_users) > 0
    keep = has_pos[cand.rows]
    kept = Candidates(cand.rows[keep], cand.cols[keep], cand.features[keep].reset_index(drop=True))
    return kept, label[keep]


def lgbm_params(objective: str, random_state: int, num_threads: int, **overrides: Any) -> dict[str, Any]:
    """LightGBM parameters, bit-for-bit reproducible for a fixed ``num_threads``."""
    if objective not in OBJECTIVES:
        raise FeedlabInputError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    params = {
        "objective": objective,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": random_state,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": num_threads,
        "verbosity": -1,
    }
    params.update(overrides)
    return params


def fit_ranker(cand: Candidates, label: np.ndarray, params: dict[str, Any], n_rounds: int) -> lgb.Booster:
    """Train LightGBM on candidate features; lambdarank groups are users (rows arrive grouped by user)."""
    group = np.bincount(cand.rows)[np.unique(cand.rows)] if params["objective"] == "lambdarank" else None
    data = lgb.Dataset(cand.features, label=label, group=group, categorical_feature=list(CATEGORICAL),
                       free_raw_data=True, params={"verbosity": -1})
    return lgb.train(params, data, num_boost_round=n_rounds)


def recommend_two_stage_lgbm(train: pd.DataFrame, users: Any, k: int = 10, *, items: pd.DataFrame | None = None,
                             objective: str = "lambdarank", n_candidates: int = 100, n_holdout: int = 5,
                             n_rounds: int = 200, learning_rate: float = 0.05, ease_l2: float = 100.0,
                             n_components: int = 30, random_state: int = 42, num_threads: int = 1) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Top-``k`` unseen items per user: EASE candidates re-ranked by LightGBM.

    Parameters
    ----------
    train : DataFrame of shape (n_rows, >=4)
        ``user_id`` int64, ``item_id`` int64, ``event_at`` datetime64, ``value`` float64, optional
        ``engagement`` float64. Training rows only: the ranker's labels come from a split inside them.
    users : array-like of shape (n_users_scored,), int64
        Users to rank for; each must have training rows.
    k : int
        List length; at most ``n_candidates`` items are returned per user.
    items : DataFrame, optional
        ``item_id``, ``topic_id``, ``length_s`` (may be NaN); topic/length features are NaN without it.
    objective : {"lambdarank", "binary"}
    n_candidates : int
        Retrieved candidates per user (top-N of EASE, or PureSVD above 15,000 items).
    n_holdout : int
        Positives per user for training: the user's last rows (a user keeps at least half its rows as history).
    n_rounds, learning_rate : int, float
        Boosting rounds and shrinkage.
    ease_l2, n_components : float, int
        EASE regularisation and PureSVD rank (the SVD score is a feature).
    random_state, num_threads : int
        LightGBM seed and threads; output is bit-for-bit identical for equal values.

    Returns
    -------
    recs : DataFrame of shape (sum over users of min(k, candidates), 5)
        ``policy`` str, ``user_id`` int64, ``item_id`` int64, ``rank`` int32, ``score`` float64 (LightGBM raw
        score).
    info : dict
        See :func:`feedlab.recsys.common.run_info`; ``params`` also records the training-frame size.
    """
    k = check_k(k)
    started = time.perf_counter()
    enc = encode(train)
    rows = user_codes(enc, users)
    topic, length = item_topics(enc, items)
    cfg = RetrievalConfig(n_candidates=max(n_candidates, k), ease_l2=ease_l2, n_components=n_components,
                          random_state=random_state)
    params = lgbm_params(objective, random_state, num_threads, learning_rate=learning_rate)
    examples, label = training_examples(enc, topic, length, cfg, n_holdout)
    if label.sum() == 0:
        raise FeedlabInputError("two_stage_lgbm: no held-out training interaction is among the retrieved "
                                "candidates; too little training data to fit the ranker")
    booster = fit_ranker(examples, label, params, n_rounds)
    trained = time.perf_counter()
    serve = build_candidates(enc, rows, topic, length, cfg)
    score = booster.predict(serve.features, num_threads=num_threads)
    keep = rank_by_score(serve.rows, serve.cols, score, k)
    recs = recs_frame("two_stage_lgbm", enc, serve.rows[keep], serve.cols[keep], score[keep])
    info_params = {"objective": objective, "n_candidates": cfg.n_candidates, "n_holdout": n_holdout,
                   "n_rounds": n_rounds, "learning_rate": learning_rate, "ease_l2": ease_l2, "n_components": n_components,
                   "random_state": random_state, "num_threads": num_threads, "k": k,
                   "training_pairs": int(len(label)), "training_positives": int(label.sum())}
    return recs, run_info("two_stage_lgbm", enc, len(rows), started, trained, info_params)
