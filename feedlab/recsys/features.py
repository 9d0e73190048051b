"""Features of (user, candidate item) pairs for the re-ranker, and the in-training time split that labels them.

All features are computed from one set of interactions ("history") and one reference time per user (the user's
last event in that history), so the same code builds the training frame (history = rows before each user's cut)
and the serving frame (history = all training rows). The user features, the trend windows and the item age stop at
the user's reference time; the whole-history item counts and means (i_count, i_rank, i_mean, i_engagement) do not:
with a per-user leave-last-out split they include other users' later training rows, as popularity does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from feedlab.recsys.common import Interactions

DAY = 86_400
TREND_DAYS = (1, 7, 30)
CATEGORICAL = ("item_topic",)


def time_split(enc: Interactions, n_holdout: int) -> np.ndarray:
    """Boolean mask of shape (n_rows,): each user's last ``n_holdout`` rows by (event_at, item_id).

    A user keeps at least half of its rows (rounded up) in the history, so users with one row hold out nothing.
    """
    counts = np.bincount(enc.user, minlength=enc.n_users)
    return _rows_from_end(enc) < np.minimum(n_holdout, counts // 2)[enc.user]


def last_rows(enc: Interactions, n: int) -> np.ndarray:
    """Boolean mask of shape (n_rows,): each user's last ``n`` rows by (event_at, item_id)."""
    return _rows_from_end(enc) < n


def _rows_from_end(enc: Interactions) -> np.ndarray:
    """Position of each row counted from its user's last row (0 = last); ``enc`` rows are sorted by
    (user, time, item)."""
    counts = np.bincount(enc.user, minlength=enc.n_users)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return counts[enc.user] - (np.arange(enc.n_rows) - starts[enc.user]) - 1


def item_topics(enc: Interactions, items: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Per catalogue item: dense topic code (int64 0..T-1 in ``topic_id`` order, -1 when unknown: a null or
    negative ``topic_id``, as :func:`feedlab.policy_io.training_inputs` writes -1 for null) and length in seconds
    (float64, NaN when unknown); both arrays have shape (n_items,)."""
    topic = np.full(enc.n_items, -1, dtype=np.int64)
    length = np.full(enc.n_items, np.nan)
    if items is None or len(items) == 0:
        return topic, length
    ids = items["item_id"].to_numpy(dtype=np.int64)
    pos = np.searchsorted(enc.item_ids, ids)
    ok = (pos < enc.n_items) & (enc.item_ids[np.minimum(pos, enc.n_items - 1)] == ids)
    if "topic_id" in items.columns:
        raw = items["topic_id"].to_numpy(dtype=np.float64, na_value=np.nan)[ok]
        known = raw >= 0  # False for NaN
        topic[pos[ok][known]] = np.unique(raw[known].astype(np.int64), return_inverse=True)[1]
    if "length_s" in items.columns:
        length[pos[ok]] = items["length_s"].to_numpy(dtype=np.float64)[ok]
    return topic, length


class PairFeaturizer:
    """Features of candidate pairs (user code, item code) from one history ``hist``.

    The per-user and per-item statistics are computed once here, so that candidates can be featurised in user
    chunks. User features: activity, mean/std value, history span, share and mean normalised value of the
    candidate's topic. Item features: popularity (count, rank), mean value and engagement, topic, length, age.
    Trend: the item's interactions in the 1/7/30 days up to the user's reference time (its last event in ``hist``).
    """

    def __init__(self, hist: Interactions, topic: np.ndarray, length: np.ndarray) -> None:
        n_users, n_items = hist.n_users, hist.n_items
        self.topic, self.length = topic, length
        self.u_count = np.bincount(hist.user, minlength=n_users).astype(np.float64)
        self.u_mean = _mean_by(hist.user, hist.value, n_users)
        self.u_std = np.sqrt(np.maximum(_mean_by(hist.user, hist.value ** 2, n_users) - self.u_mean ** 2, 0.0))
        self.u_last = _last_time(hist)
        u_first = np.full(n_users, np.iinfo(np.int64).max)
        np.minimum.at(u_first, hist.user, hist.t)
        self.u_span_days = (self.u_last - np.minimum(u_first, self.u_last)) / DAY
        self.i_count = np.bincount(hist.item, minlength=n_items).astype(np.float64)
        self.i_rank = np.empty(n_items)
        self.i_rank[np.lexsort((np.arange(n_items), -self.i_count))] = np.arange(1, n_items + 1)
        self.i_mean = _mean_by(hist.item, hist.value, n_items)
        self.i_first = np.full(n_items, np.iinfo(np.int64).max)
        np.minimum.at(self.i_first, hist.item, hist.t)
        self.i_engagement = _item_engagement(hist)
        self.n_topics = int(topic.max()) + 2  # code -1 (unknown) maps to the last slot
        ut_key = hist.user.astype(np.int64) * self.n_topics + topic[hist.item] % self.n_topics
        self.ut_count = np.bincount(ut_key, minlength=n_users * self.n_topics)
        norm = normalised_value(hist, length)
        self.ut_norm = _mean_by(ut_key, norm, n_users * self.n_topics)
        self.u_norm = _mean_by(hist.user, norm, n_users)
        self.windows = _WindowCounter(hist, self.u_last, TREND_DAYS)

    def __call__(self, rows: np.ndarray, cols: np.ndarray,
                 extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """Feature frame of shape (len(rows), n_features) of the pairs (rows[j], cols[j]), followed by the
        ``extra`` columns; one float64 block (no per-column copies when LightGBM reads it)."""
        c_key = rows * self.n_topics + self.topic[cols] % self.n_topics
        ref = self.u_last[rows]
        i_count = self.i_count[cols]
        feats = {
            "user_count": self.u_count[rows],
            "user_mean_value": self.u_mean[rows],
            "user_std_value": self.u_std[rows],
            "user_span_days": self.u_span_days[rows],
            "user_topic_share": self.ut_count[c_key] / self.u_count[rows],
            "user_topic_norm_value": np.where(self.ut_count[c_key] > 0, self.ut_norm[c_key], np.nan),
            "user_mean_norm_value": self.u_norm[rows],
            "item_count": i_count,
            "item_pop_rank": self.i_rank[cols],
            "item_mean_value": np.where(i_count > 0, self.i_mean[cols], np.nan),
            "item_mean_engagement": self.i_engagement[cols],
            "item_topic": self.topic[cols],
            "item_length": self.length[cols],
            "item_age_days": (ref - np.minimum(self.i_first[cols], ref)) / DAY,
            "item_minus_user_value": self.i_mean[cols] - self.u_mean[rows],
        }
        for days, counts in zip(TREND_DAYS, self.windows(cols, ref)):
            feats[f"item_trend_{days}d"] = counts
        feats["item_trend_7d_share"] = feats["item_trend_7d"] / np.maximum(i_count, 1.0)
        feats.update(extra or {})
        block = np.empty((len(rows), len(feats)), order="F")  # column-major: contiguous writes per feature
        for j, values in enumerate(feats.values()):
            block[:, j] = values
        return pd.DataFrame(block, columns=list(feats), copy=False)


def _mean_by(key: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    counts = np.bincount(key, minlength=size)
    sums = np.bincount(key, weights=values, minlength=size)
    return sums / np.maximum(counts, 1)


def _last_time(hist: Interactions) -> np.ndarray:
    last = np.full(hist.n_users, np.iinfo(np.int64).min)
    np.maximum.at(last, hist.user, hist.t)
    return last


def normalised_value(hist: Interactions, length: np.ndarray) -> np.ndarray:
    """Value in [0, 1]: watch ratio (value / length) when every item has a length, else min-max scaled value."""
    item_len = length[hist.item]
    if np.isfinite(item_len).all() and (item_len > 0).all():
        return np.clip(hist.value / item_len, 0.0, 1.0)
    lo, hi = hist.value.min(), hist.value.max()
    return (hist.value - lo) / (hi - lo) if hi > lo else np.full(hist.n_rows, 0.5)


def _item_engagement(hist: Interactions) -> np.ndarray:
    if hist.engagement is None:
        return np.full(hist.n_items, np.nan)
    counts = np.bincount(hist.item, minlength=hist.n_items)
    return np.where(counts > 0, _mean_by(hist.item, hist.engagement, hist.n_items), np.nan)


class _WindowCounter:
    """Interactions with an item in the windows (ref - w days, ref] for w in ``windows``; the history's
    (item, time) keys are sorted once."""

    def __init__(self, hist: Interactions, u_last: np.ndarray, windows: tuple[int, ...]) -> None:
        self.windows = windows
        ref = u_last[u_last > np.iinfo(np.int64).min]  # users with history rows
        self.t0 = min(hist.t.min(), ref.min()) - max(windows) * DAY - 1
        self.span = int(max(hist.t.max(), ref.max()) - self.t0) + 1
        self.keys = np.sort(hist.item.astype(np.int64) * self.span + (hist.t - self.t0))

    def __call__(self, cols: np.ndarray, ref: np.ndarray) -> list[np.ndarray]:
        """One float64 array of shape (len(cols),) per window: interactions with cols[j] in the window of ref[j].

        The queries are searched in sorted order (NumPy's binary search then walks the keys forward, which is
        several times faster than random probes into a large key array) and scattered back."""
        base = cols.astype(np.int64) * self.span + (ref - self.t0)
        order = np.argsort(base, kind="stable")
        base = base[order]
        upper = np.searchsorted(self.keys, base, side="right")
        out = []
        for w in self.windows:
            counts = np.empty(len(cols))
            counts[order] = upper - np.searchsorted(self.keys, base - w * DAY, side="right")
            out.append(counts)
        return out
