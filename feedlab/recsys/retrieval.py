"""Candidate retrievers: EASE (closed-form item-item regression) and helpers to gather scores of given pairs."""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp

from feedlab.recsys.common import SCORE_BUDGET_ELEMENTS

ScoreRows = Callable[[np.ndarray], np.ndarray]
ScorePairs = Callable[[np.ndarray, np.ndarray], np.ndarray]
PAIR_GATHER_MIN_ELEMENTS = 1 << 31  # dense users x items scores above which gather() scores the pairs directly


class PairScorer:
    """A row scorer (``ScoreRows``) that can also score given (row, col) pairs without a dense row of scores:
    ``pairs(rows, cols)`` returns shape (len(rows),), float32, equal to ``self(rows)[j, cols[j]]`` up to float32
    rounding."""

    def __init__(self, score_rows: ScoreRows, score_pairs: ScorePairs) -> None:
        self.score_rows, self.pairs = score_rows, score_pairs

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        return self.score_rows(rows)


def fit_ease(matrix: sp.csr_matrix, l2: float = 100.0) -> np.ndarray:
    """EASE item-item weights B of shape (n_items, n_items), float32, zero diagonal (Steck, 2019).

    ``matrix`` is the (n_users, n_items) interaction matrix; the Gram matrix is dense, so memory is
    8 * n_items**2 bytes during the fit (callers cap n_items).
    """
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    precision = np.linalg.inv(gram)
    weights = precision / (-np.diag(precision))
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def matrix_scorer(user_rows: sp.csr_matrix, weights: np.ndarray) -> ScoreRows:
    """Scorer of rows ``user_rows[rows] @ weights``: shape (len(rows), n_items), float32."""
    return lambda rows: np.asarray(user_rows[rows] @ weights, dtype=np.float32)


def pair_gather(n_users: int, n_items: int) -> bool:
    """Whether :func:`gather` should score pairs directly on a world of ``n_users`` x ``n_items``: when dense rows
    of the whole world would exceed ``PAIR_GATHER_MIN_ELEMENTS`` scores (300k users x 120k items is 36 G scores
    per gather). Small worlds keep the dense path, so their figures do not move by a float32 rounding; deciding
    on the world, not on the rows at hand, keeps results independent of how users are chunked."""
    return n_users * n_items > PAIR_GATHER_MIN_ELEMENTS


def gather(score_rows: ScoreRows, rows: np.ndarray, cols: np.ndarray, n_items: int, by_pairs: bool = False,
           pairs: ScorePairs | None = None) -> np.ndarray:
    """Scores of the pairs (rows[j], cols[j]) as float64 of shape (len(rows),); ``rows`` sorted ascending.

    With ``by_pairs`` and a pair scorer (``pairs``, or the ``pairs`` attribute of a :class:`PairScorer`) the pairs
    are scored directly; otherwise whole rows are scored in batches and the pairs picked.
    """
    out = np.empty(len(rows), dtype=np.float64)
    pairs = pairs if pairs is not None else getattr(score_rows, "pairs", None)
    if by_pairs and pairs is not None:
        step = 1 << 20
        for lo in range(0, len(rows), step):
            out[lo:lo + step] = pairs(rows[lo:lo + step], cols[lo:lo + step])
        return out
    users, starts = np.unique(rows, return_index=True)
    bounds = np.r_[starts, len(rows)]
    batch = max(1, SCORE_BUDGET_ELEMENTS // max(n_items, 1))
    for b in range(0, len(users), batch):
        dense = score_rows(users[b:b + batch])
        lo, hi = bounds[b], bounds[min(b + batch, len(users))]
        local = np.searchsorted(users[b:b + batch], rows[lo:hi])
        out[lo:hi] = dense[local, cols[lo:hi]]
    return out
