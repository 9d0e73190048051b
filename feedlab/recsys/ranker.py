"""Two-stage recommender: EASE (or SVD on large catalogues) retrieves candidates, LightGBM re-ranks them.

Training never sees the caller's test data: labels come from a time split inside the training rows. Each user's
last ``n_holdout`` training interactions are held out; candidates and features are built from the rows before
that cut only. At serving time candidates and features are rebuilt on all training rows with the same code.

Two label modes:

* ``presence`` (explicit or implicit feedback where *what* a user picked is the signal, e.g. MovieLens): the
  retrieved candidates are the training rows, a candidate is positive when it is among the user's held-out items.
* ``watch_time`` (the data set logs how long each item was watched, e.g. the synthetic world or KuaiRec, where
  exposure may be random and presence carries no preference): the training rows are the held-out interactions
  themselves, labelled by their observed watch time (graded relevance for lambdarank, the seconds for
  regression). Candidates are widened with topic-affinity candidates (the user's shrunk mean watch ratio of the
  item's topic x the item's length, i.e. an estimate of the expected watch time), which is also a feature.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from feedlab.errors import FeedlabInputError
from feedlab.recsys.common import (Interactions, all_cores, check_count, check_k, encode, interaction_matrix,
                                   map_in_threads, order_by_row_score, rank_by_score, recs_frame, run_info,
                                   servable_columns, top_k_unseen, user_codes)
from feedlab.recsys.features import (CATEGORICAL, PairFeaturizer, item_topics, last_rows, normalised_value,
                                     time_split)
from feedlab.recsys.retrieval import PairScorer, ScoreRows, fit_ease, gather, matrix_scorer, pair_gather
from feedlab.recsys.svd import fit_svd

OBJECTIVES = ("lambdarank", "binary", "regression")
LABELS = ("presence", "watch_time")
SERVE_CHUNK_PAIRS = 4_000_000  # candidate pairs featurised and scored at once (~1 GB of features)
GRADES = 30  # graded relevance 0..GRADES for lambdarank on watch time, with a linear gain (gain = watch time)
AFFINITY_PRIOR = 3.0  # pseudo-rows of the user's overall mean watch ratio in each user x topic mean


@dataclass(frozen=True)
class RetrievalConfig:
    """Candidate generation: ``n_candidates`` per user from EASE(``ease_l2``) when the catalogue has at most
    ``ease_max_items`` items (dense item x item weights), otherwise from PureSVD; ``recent_n`` last items feed the
    session-style EASE score; ``n_components`` is the rank of the PureSVD score feature. 0 means no such feature
    under EASE only: above ``ease_max_items`` PureSVD retrieves, at rank 30 when ``n_components`` is 0, and its
    score stays a feature. ``n_affinity`` > 0 adds that many topic-affinity candidates per user (union with the
    retrieved ones) and the ``affinity_score`` feature."""

    n_candidates: int = 100
    ease_l2: float = 100.0
    ease_max_items: int = 4_000  # EASE inverts a dense n_items^2 Gram matrix: O(n_items^3), 406 s at 12k items
    n_components: int = 30
    recent_n: int = 5
    random_state: int = 42
    n_affinity: int = 0  # extra topic-affinity x length candidates per user (0: none, the presence setting)


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs sorted by (user, retrieval rank): codes ``rows``/``cols`` of shape (n,), int64, and their
    features of shape (n, n_features)."""

    rows: np.ndarray
    cols: np.ndarray
    features: pd.DataFrame


def length_scale(length: np.ndarray) -> np.ndarray:
    """Item length where known and positive, else 1 (float64, shape (n_items,))."""
    return np.where(np.isfinite(length) & (length > 0), length, 1.0)


class AffinityScorer(PairScorer):
    """Estimated expected watch time of (user, item): ``affinity[user, codes[item]] * scale[item]``, float32.

    ``affinity`` (n_users, n_topic_slots) float64 >= 0, ``codes`` (n_items,) topic slots, ``scale`` (n_items,)
    positive lengths. Called on rows it returns shape (len(rows), n_items); ``pairs(rows, cols)`` shape (len(rows),).
    """

    def __init__(self, affinity: np.ndarray, codes: np.ndarray, scale: np.ndarray) -> None:
        self.affinity, self.codes, self.scale = affinity, codes, scale
        super().__init__(lambda rows: self.columns(rows, slice(None)), self._pairs)

    def columns(self, rows: np.ndarray, cols: np.ndarray | slice) -> np.ndarray:
        """Scores of ``rows`` x ``cols``, shape (len(rows), n_cols), float32."""
        return (self.affinity[rows][:, self.codes[cols]] * self.scale[cols][None, :]).astype(np.float32)

    def _pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return (self.affinity[rows, self.codes[cols]] * self.scale[cols]).astype(np.float32)

    def top_k_unseen(self, seen: sp.csr_matrix, rows: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Same result as ``common.top_k_unseen(self, seen, rows, k, allowed)`` without scoring the whole catalogue.

        A user's score depends on an item only through its topic and length, so the top-k lies among the
        longest items of each topic: only a pool of the ``k + q`` longest items per topic (and those tied with the
        last of them) is ranked, q = the 99th percentile of the users' seen counts. A user's pooled top-k is
        exact when nothing lies outside the pool, or when the user has k pooled results and the k-th beats the
        best score any item outside the pool can reach (the first item past the pool in each topic bounds its
        topic, since the float32 rounding of ``affinity * scale`` is monotone in ``scale``). Users failing that
        check are ranked over the whole catalogue. Only ``allowed`` items (all when None) take part.
        """
        n_slots = self.affinity.shape[1]
        if len(rows) == 0:
            return top_k_unseen(self, seen, rows, k, allowed)
        depth = k + int(np.quantile(np.diff(seen.indptr)[rows], 0.99))
        items = np.arange(len(self.codes)) if allowed is None else np.flatnonzero(allowed)
        order = items[np.lexsort((items, -self.scale[items], self.codes[items]))]  # topic, longest first, item
        slot, length = self.codes[order], self.scale[order]
        last = np.minimum(np.searchsorted(slot, slot, side="left") + depth, np.searchsorted(slot, slot, "right")) - 1
        in_pool = length >= length[last]  # a prefix of each topic, widened to the items tied with its last one
        pool = np.sort(order[in_pool])
        beyond = np.full(n_slots, -np.inf)
        np.maximum.at(beyond, slot[~in_pool], length[~in_pool])
        r, c, score = top_k_unseen(lambda b: self.columns(b, pool), seen[:, pool], rows, k)
        c = pool[c]
        outside = np.isfinite(beyond)
        bound = (self.affinity[rows][:, outside] * beyond[outside]).astype(np.float32).max(axis=1, initial=-np.inf)
        first = np.flatnonzero(np.diff(r, prepend=-1))  # r is ordered by row: one run per user
        users, count = r[first], np.diff(np.r_[first, len(r)])
        kth = np.full(len(rows), -np.inf, dtype=np.float32)
        found = np.zeros(len(rows), dtype=np.int64)
        at = np.searchsorted(rows, users)
        kth[at], found[at] = score[first + count - 1], count
        exact = ~outside.any() | ((found >= k) & (kth > bound))
        if exact.all():
            return r, c, score
        keep = exact[np.searchsorted(rows, r)]
        r2, c2, s2 = top_k_unseen(self, seen, rows[~exact], k, allowed)
        merged = np.argsort(np.r_[r[keep], r2], kind="stable")
        return np.r_[r[keep], r2][merged], np.r_[c[keep], c2][merged], np.r_[score[keep], s2][merged]


def affinity_scorer(hist: Interactions, topic: np.ndarray, length: np.ndarray,
                    prior: float = AFFINITY_PRIOR) -> AffinityScorer:
    """Scorer of estimated expected watch time (see :class:`AffinityScorer`).

    Per user and topic, the mean normalised value (watch ratio) of ``hist`` shrunk towards the user's overall mean
    by ``prior`` pseudo-rows; times the item's length (1 when the length is unknown).
    """
    n_topics = int(topic.max()) + 2  # code -1 (unknown) maps to the last slot
    codes = topic % n_topics
    norm = normalised_value(hist, length)
    key = hist.user.astype(np.int64) * n_topics + codes[hist.item]
    counts = np.bincount(key, minlength=hist.n_users * n_topics).reshape(hist.n_users, n_topics)
    sums = np.bincount(key, weights=norm, minlength=hist.n_users * n_topics).reshape(hist.n_users, n_topics)
    u_count = counts.sum(axis=1)
    overall = norm.mean() if len(norm) else 0.5
    u_mean = np.where(u_count > 0, sums.sum(axis=1) / np.maximum(u_count, 1), overall)
    affinity = (sums + prior * u_mean[:, None]) / (counts + prior)
    return AffinityScorer(affinity, codes, length_scale(length))


class Retriever:
    """Candidate retrieval and pair features fitted on one history ``hist``; :meth:`candidates` serves any
    ascending chunk of users, with results independent of the chunking.

    Attributes: ``matrix`` the binary (n_users, n_items) history, ``svd`` the PureSVD scorer (None when EASE
    retrieves and ``n_components`` is 0), ``primary`` / ``recent`` / ``affinity`` scorers (``recent`` only with
    EASE, ``affinity`` only when ``cfg.n_affinity`` > 0 or ``with_affinity``), ``featurizer`` the pair features.
    """

    def __init__(self, hist: Interactions, topic: np.ndarray, length: np.ndarray, cfg: RetrievalConfig,
                 with_affinity: bool = False) -> None:
        self.cfg, self.n_items = cfg, hist.n_items
        self.by_pairs = pair_gather(hist.n_users, hist.n_items)
        self.matrix = interaction_matrix(hist, "binary")
        small = hist.n_items <= cfg.ease_max_items
        svd = None if small and cfg.n_components <= 0 else fit_svd(self.matrix, cfg.n_components or 30,
                                                                      cfg.random_state)
        self.svd = None if svd is None else PairScorer(svd.score, svd.score_pairs)
        if small:
            weights = fit_ease(self.matrix, cfg.ease_l2)
            self.primary = matrix_scorer(self.matrix, weights)
            self.recent = matrix_scorer(interaction_matrix(hist.subset(last_rows(hist, cfg.recent_n)), "binary"),
                                        weights)
        else:
            self.primary, self.recent = self.svd, None
        self.affinity = (affinity_scorer(hist, topic, length) if cfg.n_affinity > 0 or with_affinity else None)
        self.featurizer = PairFeaturizer(hist, topic, length)

    def gather(self, scorer: ScoreRows, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Scores of the pairs (rows[j], cols[j]), float64 of shape (len(rows),); ``rows`` ascending."""
        return gather(scorer, rows, cols, self.n_items, by_pairs=self.by_pairs)

    def candidates(self, rows: np.ndarray, allowed: np.ndarray | None = None) -> Candidates:
        """Top candidates of users ``rows`` (ascending codes), ordered by user then primary score descending (ties
        by item): the top ``n_candidates`` unseen by the primary scorer, plus (deduplicated) the top
        ``n_affinity`` by the affinity scorer; with their features. Only ``allowed`` items (a mask over item codes;
        all when None) are retrieved."""
        r, c, score = top_k_unseen(self.primary, self.matrix, rows, self.cfg.n_candidates, allowed)
        if self.cfg.n_affinity > 0:
            r2, c2, _ = self.affinity.top_k_unseen(self.matrix, rows, self.cfg.n_affinity, allowed)
            key = np.sort(np.r_[r * self.n_items + c, r2 * self.n_items + c2])
            key = key[np.diff(key, prepend=-1) != 0]  # keys are >= 0
            r, c = key // self.n_items, key % self.n_items
            score = self.gather(self.primary, r, c)
            order = order_by_row_score(r, c, score)
            r, c, score = r[order], c[order], score[order]
        return Candidates(r, c, self.features(r, c, score))

    def features(self, r: np.ndarray, c: np.ndarray, score: np.ndarray) -> pd.DataFrame:
        """Pair features plus retrieval features of pairs ordered by user then ``score`` (the primary score)."""
        nan = np.full(len(r), np.nan)
        extra = {
            "retrieval_score": score,
            "retrieval_rank": (np.arange(len(r)) - np.searchsorted(r, r, side="left") + 1).astype(np.float64),
            "svd_score": nan if self.svd is None else self.gather(self.svd, r, c),
            "recent_score": nan if self.recent is None else self.gather(self.recent, r, c),
        }
        if self.affinity is not None:
            extra["affinity_score"] = self.gather(self.affinity, r, c)
        return self.featurizer(r, c, extra)


def watch_examples(enc: Interactions, topic: np.ndarray, length: np.ndarray, cfg: RetrievalConfig,
                   n_holdout: int) -> tuple[Candidates, np.ndarray]:
    """The held-out last ``n_holdout`` rows of each user as examples, features from the rows before the cut and
    label = observed value (watch time), shape (n,), float64; pairs ordered by (user, retrieval score, item).

    Their ``retrieval_rank`` is a rank among the held-out items only, so the ranker drops that feature in this mode."""
    held = time_split(enc, n_holdout)
    retriever = Retriever(enc.subset(~held), topic, length, cfg, with_affinity=True)
    r, c, label = enc.user[held].astype(np.int64), enc.item[held].astype(np.int64), enc.value[held]
    score = retriever.gather(retriever.primary, r, c) if len(r) else np.zeros(0)
    order = order_by_row_score(r, c, score)
    r, c, score, label = r[order], c[order], score[order], label[order]
    return Candidates(r, c, retriever.features(r, c, score)), label


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
    cand = Retriever(hist, topic, length, cfg).candidates(np.unique(enc.user[held]).astype(np.int64))
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


def fit_ranker(cand: Candidates, label: np.ndarray, params: dict[str, Any], n_rounds: int,
               label_gain: np.ndarray | None = None, init_score: np.ndarray | None = None) -> lgb.Booster:
    """Train LightGBM on candidate features; lambdarank groups are users (rows arrive grouped by user)."""
    group = np.bincount(cand.rows)[np.unique(cand.rows)] if params["objective"] == "lambdarank" else None
    if label_gain is not None:
        params = {**params, "label_gain": label_gain.tolist()}
    data = lgb.Dataset(cand.features, label=label, group=group, init_score=init_score,
                       categorical_feature=list(CATEGORICAL),
                       free_raw_data=True, params={"verbosity": -1})
    return lgb.train(params, data, num_boost_round=n_rounds)


def affinity_ratio(cand: Candidates, length: np.ndarray) -> np.ndarray:
    """The affinity estimate of each candidate's watch ratio (affinity score / length), float64 of shape (n,)."""
    return cand.features["affinity_score"].to_numpy(dtype=np.float64) / length_scale(length)[cand.cols]


def watch_grades(value: np.ndarray) -> np.ndarray:
    """Graded relevance 0..GRADES (float64) proportional to the observed value (watch time), with the lambdarank
    label gain ``arange(GRADES + 1)``, so that NDCG's gain is linear in watch time."""
    top = value.max() if len(value) else 0.0
    return np.rint(GRADES * np.clip(value, 0.0, None) / top) if top > 0 else np.zeros(len(value))


@dataclass(frozen=True)
class FittedRanker:
    """A trained re-ranker and how its output becomes a serving score.

    ``booster`` None: serve in retrieval order. ``drop_rank``: trained without ``retrieval_rank`` (watch-time
    examples have none). ``from_affinity``: regression of the watch ratio boosted from the affinity estimate,
    served as (prediction + affinity ratio) x length.
    """

    booster: lgb.Booster | None
    drop_rank: bool
    from_affinity: bool

    def score(self, cand: Candidates, length: np.ndarray, num_threads: int = 1) -> np.ndarray:
        """Serving scores of the candidates, float64 of shape (n,); LightGBM predicts on ``num_threads`` threads
        (per row: the scores do not depend on it)."""
        if self.booster is None:
            return cand.features["retrieval_score"].to_numpy(dtype=np.float64)
        feats = cand.features.drop(columns="retrieval_rank") if self.drop_rank else cand.features
        score = self.booster.predict(feats, num_threads=num_threads)
        if self.from_affinity:
            score = (score + affinity_ratio(cand, length)) * length_scale(length)[cand.cols]
        return score


def serve(retriever: Retriever, ranker: FittedRanker, rows: np.ndarray, length: np.ndarray,
          k: int, allowed: np.ndarray | None = None,
          n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` of each user's candidates by ``ranker``, in chunks of about ``SERVE_CHUNK_PAIRS`` candidate pairs
    so that memory does not grow with the number of users (results do not depend on the chunking); ``n_jobs``
    chunks are served side by side (:func:`feedlab.recsys.common.map_in_threads`; the result does not depend on it).

    Returns user and item codes (int64) and scores (float64), each of shape (m,), ordered by user then rank.
    """
    per_user = retriever.cfg.n_candidates + retriever.cfg.n_affinity
    chunks = np.array_split(rows, max(1, -(-len(rows) * per_user // SERVE_CHUNK_PAIRS)))
    workers = max(1, min(n_jobs, len(chunks)))  # a single chunk keeps every core for LightGBM's prediction

    def serve_chunk(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cand = retriever.candidates(chunk, allowed)
        score = ranker.score(cand, length, num_threads=max(1, all_cores() // workers))
        keep = rank_by_score(cand.rows, cand.cols, score, k)
        return cand.rows[keep], cand.cols[keep], score[keep]

    parts = map_in_threads(serve_chunk, chunks, workers)
    r, c, score = (np.concatenate(part) for part in zip(*parts))
    return r, c, score


def train_ranker(enc: Interactions, topic: np.ndarray, length: np.ndarray, cfg: RetrievalConfig, objective: str,
                 watch: bool, n_holdout: int, params: dict[str, Any], n_rounds: int
                 ) -> tuple[FittedRanker, np.ndarray]:
    """The re-ranker of :func:`recommend_two_stage_lgbm`, trained on examples from an in-training split.

    ``watch``: learn watch time (graded for lambdarank; for regression, the watch ratio boosted from the affinity
    estimate), else presence. Returns the ranker (``booster`` None when no held-out row gave a usable label: serve
    in retrieval order) and the training target, float64 of shape (n_training_pairs,).
    """
    gain = base = None
    if watch:
        examples, target = watch_examples(enc, topic, length, cfg, n_holdout)
        examples = Candidates(examples.rows, examples.cols, examples.features.drop(columns="retrieval_rank"))
        if objective == "lambdarank":
            target, gain = watch_grades(target), np.arange(GRADES + 1, dtype=np.float64)
        else:  # regression on the watch ratio, boosted from the affinity estimate; served as ratio x length
            target = target / length_scale(length)[examples.cols]
            base = affinity_ratio(examples, length)
    else:
        examples, target = training_examples(enc, topic, length, cfg, n_holdout)
    booster = None if target.sum() == 0 else fit_ranker(examples, target, params, n_rounds, gain, base)
    return FittedRanker(booster, drop_rank=watch, from_affinity=base is not None), target


def recommend_two_stage_lgbm(train: pd.DataFrame, users: Any, k: int = 10, *, items: pd.DataFrame | None = None,
                             servable: Any = None, objective: str = "auto", label: str = "presence",
                             n_candidates: int = 100, n_affinity: int | None = None, n_holdout: int | None = None,
                             n_rounds: int | None = None, learning_rate: float | None = None,
                             ease_l2: float = 100.0, n_components: int | None = None, random_state: int = 42,
                             num_threads: int = 1) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Top-``k`` unseen items per user: EASE candidates re-ranked by LightGBM.

    Parameters
    ----------
    train : DataFrame of shape (n_rows, >=4)
        ``user_id`` int64, ``item_id`` int64, ``event_at`` datetime64, ``value`` float64, optional
        ``engagement`` float64. Training rows only: the ranker's labels come from a split inside them.
    users : array-like of shape (n_users_scored,), int64
        Users to rank for; each must have training rows.
    k : int
        List length; at most the number of candidates is returned per user.
    items : DataFrame, optional
        ``item_id``, ``topic_id``, ``length_s`` (may be NaN); topic/length features are NaN without it.
    servable : array-like of shape (n_servable,), int64, optional
        The only item ids that may be served (all when None). Training candidates are not restricted: the ranker
        learns from the whole history, only the served lists are cut to these items.
    objective : {"auto", "lambdarank", "binary", "regression"}
        ``auto``: lambdarank for presence, regression for watch time. ``binary`` needs ``label="presence"``.
        ``regression`` needs ``label="watch_time"``: L2 on the held-out rows' watch ratio (value / length),
        boosted from the affinity estimate (init score), served as predicted ratio x length. ``lambdarank`` with
        watch time uses graded relevance proportional to the watch time (linear gain).
    label : {"presence", "watch_time"}
        What the ranker learns (see the module docstring). ``watch_time`` needs ``value`` to be a watch time.
    n_candidates : int
        Retrieved candidates per user (top-N of EASE, or PureSVD above 4,000 items).
    n_affinity : int, optional
        Extra topic-affinity x length candidates per user; default 0 for presence, ``n_candidates`` for watch time.
    n_holdout : int, optional
        Held-out rows per user for training: the user's last rows (a user keeps at least half its rows as
        history). Default 5 for presence, 10 for watch time.
    n_rounds, learning_rate : int, float, optional
        Boosting rounds and shrinkage; default 200 and 0.05 for presence, 30 and 0.05 for watch time (the
        regression boosts from the affinity estimate and only corrects it).
    ease_l2, n_components : float, int
        EASE regularisation and PureSVD rank (the SVD score is a feature; default 30 for presence, 0 = no SVD
        feature for watch time, where presence carries little signal; above 4,000 items PureSVD retrieves, at
        rank 30 for 0, and its score is a feature either way: :class:`RetrievalConfig`).
    random_state, num_threads : int
        LightGBM seed and training threads (prediction uses every core); output is bit-for-bit identical for
        equal values.

    Returns
    -------
    recs : DataFrame of shape (sum over users of min(k, candidates), 5)
        ``policy`` str, ``user_id`` int64, ``item_id`` int64, ``rank`` int32, ``score`` float64: LightGBM's raw
        score; for the regression objective the expected watch time, (predicted watch ratio + affinity ratio) x
        length; the retrieval score when the ranker could not be trained (see below).
    info : dict
        See :func:`feedlab.recsys.common.run_info`; ``params`` also records the training-frame size and
        ``fallback`` (True when no held-out interaction gave a usable label, e.g. none fell among the candidates:
        the ranker is then not trained and candidates are served in retrieval order).
    """
    k = check_k(k)
    if label not in LABELS:  # the data set's default is chosen upstream (feedlab.policy_io.lgbm_label_for)
        raise FeedlabInputError(f"label must be one of {LABELS}, got {label!r}")
    watch = label == "watch_time"
    if objective == "auto":
        objective = "regression" if watch else "lambdarank"
    if (objective == "binary" and watch) or (objective == "regression" and not watch):
        raise FeedlabInputError(f"objective {objective!r} does not fit label {label!r}")
    n_candidates = check_count("n_candidates", n_candidates)
    n_affinity = check_count("n_affinity", (n_candidates if watch else 0) if n_affinity is None else n_affinity, 0)
    n_holdout = check_count("n_holdout", (10 if watch else 5) if n_holdout is None else n_holdout)
    n_rounds = check_count("n_rounds", (30 if watch else 200) if n_rounds is None else n_rounds)
    learning_rate = 0.05 if learning_rate is None else learning_rate
    n_components = check_count("n_components", (0 if watch else 30) if n_components is None else n_components, 0)
    started = time.perf_counter()
    enc = encode(train)
    rows = user_codes(enc, users)
    topic, length = item_topics(enc, items)
    cfg = RetrievalConfig(n_candidates=max(n_candidates, k), ease_l2=ease_l2, n_components=n_components,
                          random_state=random_state, n_affinity=n_affinity)
    params = lgbm_params(objective, random_state, num_threads, learning_rate=learning_rate)
    with ThreadPoolExecutor(max_workers=1) as background:
        # The serving retriever (its own SVD fit on every row, mostly single-threaded sparse products) is built
        # while the ranker's examples are built and it trains, so the two overlap on two cores.
        # With watch-time labels the ranker learned from the affinity feature (watch_examples), so serving needs it
        # even when no affinity candidates are added (n_affinity 0).
        serving = background.submit(Retriever, enc, topic, length, cfg, watch)
        ranker, target = train_ranker(enc, topic, length, cfg, objective, watch, n_holdout, params, n_rounds)
        trained = time.perf_counter()
        retriever = serving.result()
    fallback = ranker.booster is None
    r, c, score = serve(retriever, ranker, rows, length, k, servable_columns(enc, servable), n_jobs=all_cores())
    recs = recs_frame("two_stage_lgbm", enc, r, c, score)
    info_params = {"objective": objective, "label": label, "n_candidates": cfg.n_candidates,
                   "n_affinity": cfg.n_affinity, "n_holdout": n_holdout, "n_rounds": n_rounds,
                   "learning_rate": learning_rate, "ease_l2": ease_l2, "n_components": n_components,
                   "random_state": random_state, "num_threads": num_threads, "k": k,
                   "training_pairs": int(len(target)), "training_positives": int((target > 0).sum()),
                   "fallback": fallback}
    return recs, run_info("two_stage_lgbm", enc, len(rows), started, trained, info_params)
