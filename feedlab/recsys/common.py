"""Shared plumbing of the recommendation policies: id encoding, sparse matrices, masked top-K and output frames.

Every policy follows the same contract (see :mod:`feedlab.recsys`):

* the catalogue is the set of items present in the training interactions (an item nobody interacted with
  cannot be scored by a collaborative model and is never recommended);
* every item a user has in training is excluded from that user's list;
* a policy given ``servable`` item ids ranks only those (KuaiRec's big-to-small protocol serves the small matrix);
* each user gets exactly ``k`` rows, or every unseen item when fewer than ``k`` remain;
* ties in score are broken by ascending ``item_id``.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from feedlab.errors import FeedlabInputError

OUTPUT_COLUMNS = ("policy", "user_id", "item_id", "rank", "score")
#: Dense float32 scores held at once while ranking (32 MiB): a batch stays in the 32 MiB L3 cache between the product
#: that writes it and the reductions that read it (bench/micro_recsys.py: 5 % faster than 128 MiB at 120k items).
SCORE_BUDGET_ELEMENTS = 1 << 23
BOUND_BLOCKS = 1024  # column blocks whose maxima bound a row's k-th largest score (vs 512: 1.5-2x faster, 120k wide)
#: order_by_row_score sorts runs of equal rows in a padded (runs, longest run) array unless it would hold more than
#: this many times the entries plus RAGGED_PADDING_SLACK cells (then one global lexsort is cheaper); the slack lets
#: small inputs always take the padded path.
RAGGED_PADDING_FACTOR = 4
RAGGED_PADDING_SLACK = 1024
#: factorize() marks ids in a table over their span when the span is at most this many times the ids plus the slack
#: (a 1 MiB table is always allowed); wider ranges are sorted by np.unique.
DENSE_ID_SPAN_FACTOR = 4
DENSE_ID_SPAN_SLACK = 1 << 20
_REQUIRED = ("user_id", "item_id", "event_at", "value")
_Arg = TypeVar("_Arg")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class Interactions:
    """Training interactions encoded to contiguous codes.

    Attributes
    ----------
    user_ids : ndarray of shape (n_users,), int64
        Sorted distinct user ids; a user's code is its position here.
    item_ids : ndarray of shape (n_items,), int64
        Sorted distinct item ids; code order equals ``item_id`` order, which makes ties resolve by item id.
    user, item : ndarray of shape (n_rows,), int32
        Codes of each interaction, rows sorted by (user, event time, item).
    t : ndarray of shape (n_rows,), int64
        Event time in seconds since the epoch.
    value : ndarray of shape (n_rows,), float64
        The fitted signal (watch time, rating).
    engagement : ndarray of shape (n_rows,), float64 or None
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    t: np.ndarray
    value: np.ndarray
    engagement: np.ndarray | None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_rows(self) -> int:
        return len(self.user)

    def subset(self, mask: np.ndarray) -> "Interactions":
        """Rows where ``mask`` holds, keeping this encoding (codes and catalogue unchanged)."""
        eng = None if self.engagement is None else self.engagement[mask]
        return Interactions(self.user_ids, self.item_ids, self.user[mask], self.item[mask], self.t[mask],
                            self.value[mask], eng)


def encode(train: pd.DataFrame) -> Interactions:
    """Validate ``train`` and encode it; rows are sorted by (user, event_at, item_id)."""
    missing = [c for c in _REQUIRED if c not in train.columns]
    if missing:
        raise FeedlabInputError(f"training interactions lack column(s) {missing}; need {list(_REQUIRED)}")
    if len(train) == 0:
        raise FeedlabInputError("training interactions are empty")
    value = train["value"].to_numpy(dtype=np.float64)
    if not np.isfinite(value).all():
        raise FeedlabInputError("training column 'value' has NaN or infinite entries")
    user_ids, user = factorize(train["user_id"].to_numpy(dtype=np.int64))
    item_ids, item = factorize(train["item_id"].to_numpy(dtype=np.int64))
    t = _epoch_seconds(train["event_at"])
    order = _row_order(user, t, item, len(user_ids), len(item_ids))
    eng = None
    if "engagement" in train.columns:
        eng = train["engagement"].to_numpy(dtype=np.float64)[order]
    return Interactions(user_ids, item_ids, user[order].astype(np.int32), item[order].astype(np.int32),
                        t[order], value[order], eng)


def factorize(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True)`` for int64 ``ids`` of shape (n,): the sorted distinct ids, shape
    (n_distinct,), and each entry's position among them, shape (n,), int64.

    Ids spanning at most ``DENSE_ID_SPAN_FACTOR * n + DENSE_ID_SPAN_SLACK`` values (the usual 1..n ids) are marked in a
    table over that span, in linear time, instead of sorted (4 s for 17.7M rows at 100x).
    """
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low = int(ids.min())
    span = int(ids.max()) - low + 1
    if span > DENSE_ID_SPAN_FACTOR * len(ids) + DENSE_ID_SPAN_SLACK:
        distinct, inverse = np.unique(ids, return_inverse=True)
        return distinct, inverse.astype(np.int64)
    offset = ids - low
    present = np.zeros(span, dtype=bool)
    present[offset] = True
    position = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present).astype(np.int64) + low, position[offset]


def _row_order(user: np.ndarray, t: np.ndarray, item: np.ndarray, n_users: int, n_items: int) -> np.ndarray:
    """The permutation ``np.lexsort((item, t, user))`` of shape (n,): by user code, time, item code, ties by position.

    When (user, time, item) packs into one int64 key it is one stable sort of that key (2.7 s instead of 7.3 s for
    17.7M rows at 100x)."""
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    t_low = int(t.min())
    t_span = int(t.max()) - t_low + 1
    if n_users * t_span * n_items >= 2**63:
        return np.lexsort((item, t, user))
    key = (user.astype(np.int64) * t_span + (t - t_low)) * n_items + item
    return np.argsort(key, kind="stable")


def _epoch_seconds(event_at: pd.Series) -> np.ndarray:
    """Seconds since the epoch (int64) of a datetime column (naive or tz-aware, read as UTC) or of epoch numbers."""
    if event_at.isna().any():
        raise FeedlabInputError("training column 'event_at' has missing timestamps")
    if isinstance(event_at.dtype, pd.DatetimeTZDtype):
        event_at = event_at.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(event_at):
        return event_at.to_numpy(dtype="datetime64[s]").astype(np.int64)
    return event_at.to_numpy(dtype=np.int64)


def user_codes(enc: Interactions, users: Any) -> np.ndarray:
    """Sorted distinct codes (int64) of the requested users; every user must have training rows."""
    wanted = np.unique(np.asarray(users, dtype=np.int64))
    pos = np.searchsorted(enc.user_ids, wanted)
    pos_clipped = np.minimum(pos, enc.n_users - 1)
    unknown = wanted[enc.user_ids[pos_clipped] != wanted]
    if len(unknown):
        raise FeedlabInputError(f"{len(unknown)} user(s) to score have no training rows, e.g. {unknown[:5].tolist()}")
    return pos_clipped.astype(np.int64)


def interaction_matrix(enc: Interactions, value: str = "binary", dtype: type = np.float32) -> sp.csr_matrix:
    """User x item CSR matrix of shape (n_users, n_items).

    ``value="binary"`` puts 1 on every observed pair, ``value="value"`` the mean ``value`` of the pair's rows.
    Built from sorted pair keys, never through a dense pivot.
    """
    if value not in ("binary", "value"):
        raise FeedlabInputError(f"value must be 'binary' or 'value', got {value!r}")
    key = enc.user.astype(np.int64) * enc.n_items + enc.item
    pairs, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    if value == "binary":
        data = np.ones(len(pairs), dtype=dtype)
    else:
        data = (np.bincount(inverse, weights=enc.value, minlength=len(pairs)) / counts).astype(dtype)
    rows = pairs // enc.n_items
    indptr = np.zeros(enc.n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=enc.n_users), out=indptr[1:])
    cols = (pairs % enc.n_items).astype(np.int32)
    return sp.csr_matrix((data, cols, indptr), shape=(enc.n_users, enc.n_items))


def servable_columns(enc: Interactions, servable: Any) -> np.ndarray | None:
    """The item codes a policy may serve as a mask, or None when every item may be served.

    Parameters
    ----------
    enc : the encoded training interactions.
    servable : array-like of shape (n_servable,), int64 item ids, or None (no restriction). Ids absent from
        training are ignored (no collaborative score exists for them).

    Returns
    -------
    mask : ndarray of shape (n_items,), bool, or None.
    """
    if servable is None:
        return None
    return np.isin(enc.item_ids, np.asarray(servable, dtype=np.int64))


def all_cores() -> int:
    """The machine's core count, the default number of threads of the ranking loops."""
    return os.cpu_count() or 1


def map_in_threads(func: Callable[[_Arg], _Result], args: Sequence[_Arg], n_jobs: int) -> list[_Result]:
    """``[func(a) for a in args]``, computed by ``n_jobs`` threads when ``n_jobs`` > 1.

    For loops over batches whose work is NumPy kernels that release the GIL (products, reductions, partitions,
    sorts, fancy indexing): on two cores two batches then run side by side, where one batch leaves a core idle
    between its products. BLAS is held to one thread meanwhile, so the workers' products do not fight over the
    cores (OpenMP's thread count is per thread: a worker calling LightGBM passes its own). Each result depends on
    its argument only, so the list is the same for every ``n_jobs``.
    """
    if n_jobs <= 1 or len(args) <= 1:
        return [func(arg) for arg in args]
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(func, args))


def top_k_unseen(score_rows: Callable[[np.ndarray], np.ndarray], seen: sp.csr_matrix, rows: np.ndarray,
                 k: int, allowed: np.ndarray | None = None,
                 n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` unseen columns per row, scored in batches.

    Parameters
    ----------
    score_rows : callable
        Maps an int64 array of b row codes to dense scores of shape (b, n_items); it may return a fresh array
        that this function overwrites. Called from ``n_jobs`` threads at once.
    seen : sparse matrix of shape (n_users, n_items)
        Non-zero pattern = items to exclude per user.
    rows : ndarray of shape (n,), int64
        User codes to rank, ascending.
    k : int
    allowed : ndarray of shape (n_items,), bool, optional
        Columns that may be returned (see :func:`servable_columns`); all when None.
    n_jobs : int
        Threads ranking batches side by side (:func:`map_in_threads`); the result does not depend on it.

    Returns
    -------
    row, col : ndarray of shape (m,), int64
        User and item codes, ordered by row then rank; m = sum over rows of min(k, unseen allowed items).
    score : ndarray of shape (m,), float64
    """
    n_items = seen.shape[1]
    batch = max(1, SCORE_BUDGET_ELEMENTS // max(n_items, 1))

    def rank_batch(b_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores = np.asarray(score_rows(b_rows), dtype=np.float32)
        block = seen[b_rows]
        scores[np.repeat(np.arange(len(b_rows)), np.diff(block.indptr)), block.indices] = -np.inf
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        local, col, top = top_k_rows(scores, k)
        return b_rows[local], col, top.astype(np.float64)

    parts = map_in_threads(rank_batch, [rows[start:start + batch] for start in range(0, len(rows), batch)], n_jobs)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    out_r, out_c, out_s = zip(*parts)
    return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_s)


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` largest finite entries of each row of ``scores`` (b, n), ties broken by ascending column.

    A per-row lower bound of the k-th largest value selects a few candidates per row, and a sort of the candidates
    by (row, -score, column) keeps the first k. On wide rows the bound is the k-th largest of ``BOUND_BLOCKS``
    block maxima (k distinct entries reach it), which costs one max-reduction instead of a partition of the row;
    only the blocks whose maximum reaches the bound (about k per row) and the ragged tail are then compared with
    it, so the full-width compare and ``nonzero`` are avoided. (An ``argpartition`` of each row was measured 3x
    slower than this at 279 x 120k.) ``-inf`` entries (masked items) are never returned, so a row yields fewer than
    k entries only when it has fewer than k finite ones. A NaN entry raises FeedlabInputError: it is no score to
    rank by (a model whose training diverged, e.g. at too high a learning rate), and skipping it would shorten the
    list without a word.

    Returns
    -------
    row, col : ndarray of shape (m,), int64
        Row index into ``scores`` and column, ordered by row then rank.
    score : ndarray of shape (m,), same dtype as ``scores``
    """
    b, n = scores.shape
    width = n // BOUND_BLOCKS
    if width >= 4 and k <= BOUND_BLOCKS:
        body = scores[:, : width * BOUND_BLOCKS].reshape(b, BOUND_BLOCKS, width)
        maxima = body.max(axis=2)  # a NaN in a block makes its maximum NaN
        tail = scores[:, width * BOUND_BLOCKS:]
        _refuse_nan(maxima, tail)
        bound = np.partition(maxima, BOUND_BLOCKS - k, axis=1)[:, BOUND_BLOCKS - k]
        b_row, b_block = np.nonzero(maxima >= bound[:, None])
        sub = body[b_row, b_block]  # (n_blocks_kept, width)
        keep = sub >= bound[b_row, None]
        keep &= sub > -np.inf
        i, w = np.nonzero(keep)
        t_row, t_col = np.nonzero((tail >= bound[:, None]) & (tail > -np.inf))
        row = np.r_[b_row[i], t_row]
        col = np.r_[b_block[i].astype(np.int64) * width + w, t_col + width * BOUND_BLOCKS]
    else:
        _refuse_nan(scores)
        if k < n:
            bound = np.partition(scores, n - k, axis=1)[:, n - k]
        else:
            bound = np.full(b, -np.inf, dtype=scores.dtype)
        candidate = scores >= bound[:, None]
        candidate &= scores > -np.inf
        row, col = np.nonzero(candidate)
    val = scores[row, col]
    order = order_by_row_score(row, col, val)
    keep_k = order[_position_in_group(row[order]) < k]
    return row[keep_k].astype(np.int64), col[keep_k].astype(np.int64), val[keep_k]


def _refuse_nan(*blocks: np.ndarray) -> None:
    """FeedlabInputError when any of the 2-d score ``blocks`` (rows = users of one batch) holds a NaN."""
    for block in blocks:
        rows = np.flatnonzero(np.isnan(block).any(axis=1))
        if len(rows):
            raise FeedlabInputError(f"the model scored NaN for {len(rows)} of {len(block)} users of a batch: its "
                                    "training diverged (its parameters, e.g. the learning rate?), so no list is served")


def order_by_row_score(row: np.ndarray, col: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The permutation ``np.lexsort((col, -score, row))`` of shape (n,), int64: by row, score descending, col
    ascending, remaining ties by position. ``row`` and ``col`` are integer codes, ``score`` floats, all of shape (n,).

    Each run of equal rows is sorted on its own, as one row of a padded (runs, longest run) complex array with real
    part -score and imaginary part col (NumPy orders complex numbers by real, then imaginary part; a stable sort
    keeps lexsort's ties): several times faster than lexsort's three global stable sorts on candidate lists of a
    few hundred items per user. Rows out of order are first grouped by a stable sort (linear on a few sorted
    runs). NaN scores, or runs so ragged that the padding would exceed ``RAGGED_PADDING_FACTOR`` times the
    entries, take lexsort itself.
    """
    if len(row) == 0 or np.isnan(score).any():
        return np.lexsort((col, -score, row))
    grouped = np.arange(len(row)) if (np.diff(row) >= 0).all() else np.argsort(row, kind="stable")
    row_g = row[grouped]
    starts = np.flatnonzero(np.r_[True, row_g[1:] != row_g[:-1]])
    counts = np.diff(np.r_[starts, len(row)])
    longest = int(counts.max())
    if len(starts) * longest > RAGGED_PADDING_FACTOR * len(row) + RAGGED_PADDING_SLACK:
        return np.lexsort((col, -score, row))
    run = np.repeat(np.arange(len(starts)), counts)
    at = np.arange(len(row)) - starts[run]
    keys = np.full((len(starts), longest), complex(np.inf, np.inf))  # padding sorts after every finite entry
    keys[run, at] = -score[grouped].astype(np.float64) + 1j * col[grouped].astype(np.float64)
    order = np.argsort(keys, axis=1, kind="stable")
    return grouped[(starts[:, None] + order)[np.arange(longest)[None, :] < counts[:, None]]]


def _position_in_group(sorted_keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal keys (keys sorted)."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_keys)) + 1]
    return np.arange(len(sorted_keys)) - np.repeat(starts, np.diff(np.r_[starts, len(sorted_keys)]))


def recs_frame(policy: str, enc: Interactions, row: np.ndarray, col: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """Output frame from codes ordered by (row, rank): columns ``OUTPUT_COLUMNS``."""
    return pd.DataFrame({
        "policy": pd.Series([policy] * len(row), dtype=object),
        "user_id": enc.user_ids[row].astype(np.int64),
        "item_id": enc.item_ids[col].astype(np.int64),
        "rank": (_position_in_group(row) + 1).astype(np.int32),
        "score": score.astype(np.float64),
    })


def rank_by_score(row: np.ndarray, col: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Indices that order (row, col, score) triples by row, score descending, col ascending, keeping k per row."""
    order = order_by_row_score(row, col, score)
    return order[_position_in_group(row[order]) < k]


def run_info(policy: str, enc: Interactions, n_scored: int, started: float, trained: float,
             params: dict[str, Any]) -> dict[str, Any]:
    """Metadata of one run for ``fct_model_runs``: sizes, wall seconds and the parameters used."""
    now = time.perf_counter()
    return {
        "policy": policy,
        "rows_trained": int(enc.n_rows),
        "n_users": int(enc.n_users),
        "n_items": int(enc.n_items),
        "n_users_scored": int(n_scored),
        "train_seconds": round(trained - started, 4),
        "score_seconds": round(now - trained, 4),
        "total_seconds": round(now - started, 4),
        "params": dict(params),
    }


def check_count(name: str, value: int, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``, or a FeedlabInputError naming the parameter ``name``."""
    if int(value) != value or value < minimum:
        raise FeedlabInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_k(k: int) -> int:
    """``k`` as a positive int, or a FeedlabInputError."""
    return check_count("k", k)
