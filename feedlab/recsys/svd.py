"""PureSVD: truncated SVD of the sparse user x item matrix, items scored by the rank-r reconstruction."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from feedlab.errors import FeedlabInputError
from feedlab.recsys.common import (all_cores, check_count, check_k, encode, interaction_matrix, recs_frame, run_info,
                                   servable_columns, top_k_unseen, user_codes)

RANDOMIZED_MIN_NNZ = 2_000_000  # above this many non-zeros (or users) fit_svd switches from ARPACK to randomized
RANDOMIZED_MIN_USERS = 50_000


@dataclass(frozen=True)
class SvdModel:
    """Fitted factors: ``user_factors`` (n_users, r) = X V, ``item_factors`` (n_items, r) = V, both float32."""

    user_factors: np.ndarray
    item_factors: np.ndarray

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Dense scores of shape (len(rows), n_items), float32."""
        return self.user_factors[rows] @ self.item_factors.T

    def score_pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Scores of the pairs (rows[j], cols[j]), shape (len(rows),), float32 (no dense row of scores)."""
        return np.einsum("ij,ij->i", self.user_factors[rows], self.item_factors[cols])


def fit_svd(matrix: sp.csr_matrix, n_components: int = 30, random_state: int = 42) -> SvdModel:
    """Fit PureSVD on ``matrix`` (n_users, n_items); r is capped at min(matrix.shape) - 1.

    Uses ARPACK (an exact truncated SVD, what PureSVD prescribes); ``random_state`` seeds its start vector so
    the factors are reproducible. Randomized SVD was 0.3-0.8 points of Hit@10 noisier on MovieLens-100K, so it is
    used only on large matrices (more than ``RANDOMIZED_MIN_NNZ`` non-zeros or ``RANDOMIZED_MIN_USERS`` users),
    where ARPACK's many sparse mat-vec passes dominate the build: Halko's randomized SVD with 7 power iterations,
    seeded by ``random_state`` (deterministic).
    """
    r = min(check_count("n_components", n_components), min(matrix.shape) - 1)
    if r < 1:
        raise FeedlabInputError(f"SVD needs at least 2 users and 2 items, got matrix of shape {matrix.shape}")
    if matrix.nnz > RANDOMIZED_MIN_NNZ or matrix.shape[0] > RANDOMIZED_MIN_USERS:
        svd = TruncatedSVD(n_components=r, algorithm="randomized", n_iter=7, random_state=random_state)
    else:
        svd = TruncatedSVD(n_components=r, algorithm="arpack", random_state=random_state)
    user_factors = svd.fit_transform(matrix).astype(np.float32)
    return SvdModel(user_factors, svd.components_.T.astype(np.float32).copy())


def recommend_svd(train: pd.DataFrame, users: Any, k: int = 10, *, items: pd.DataFrame | None = None,
                  servable: Any = None, n_components: int = 30, value: str = "binary",
                  random_state: int = 42) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Top-``k`` unseen items per user by PureSVD.

    Parameters
    ----------
    train : DataFrame of shape (n_rows, >=4)
        ``user_id`` int64, ``item_id`` int64, ``event_at`` datetime64, ``value`` float64.
    users : array-like of shape (n_users_scored,), int64
        Users to rank for; each must have training rows.
    k : int
    items : DataFrame, optional
        Unused (accepted for a uniform signature across policies).
    servable : array-like of shape (n_servable,), int64, optional
        The only item ids that may be recommended (all when None).
    n_components : int
        SVD rank r.
    value : {"binary", "value"}
        Matrix cell: 1 per observed (user, item) (PureSVD; the default, as it ranks better on MovieLens-100K:
        Hit@10 0.088 vs 0.081), or the pair's mean ``value``.
    random_state : int
        Seed of the SVD (ARPACK's start vector, or the randomized SVD's draws).

    Returns
    -------
    recs : DataFrame of shape (sum over users of min(k, unseen items), 5)
        ``policy`` str, ``user_id`` int64, ``item_id`` int64, ``rank`` int32 (1..k), ``score`` float64
        (reconstructed cell ``x_u V V^T``). Only items present in ``train`` are candidates.
    info : dict
        See :func:`feedlab.recsys.common.run_info`.
    """
    del items
    k = check_k(k)
    started = time.perf_counter()
    enc = encode(train)
    rows = user_codes(enc, users)
    matrix = interaction_matrix(enc, value)
    model = fit_svd(matrix, n_components, random_state)
    trained = time.perf_counter()
    row, col, score = top_k_unseen(model.score, matrix, rows, k, servable_columns(enc, servable), n_jobs=all_cores())
    params = {"n_components": n_components, "value": value, "random_state": random_state, "k": k}
    return recs_frame("svd", enc, row, col, score), run_info("svd", enc, len(rows), started, trained, params)
