"""Unit tests of the recsys building blocks: encoding, sparse matrix, masked top-K, time split, features."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_info

from feedlab.errors import FeedlabInputError
from feedlab.recsys.common import (encode, factorize, interaction_matrix, map_in_threads, order_by_row_score,
                                   servable_columns, top_k_rows, top_k_unseen)
from feedlab.recsys.features import PairFeaturizer, item_topics, time_split
from feedlab.recsys.ranker import RetrievalConfig, Retriever, training_examples
from feedlab.recsys.two_tower import _epoch_batches, step_schedule
from recsys_worlds import planted_world


def test_interaction_matrix_is_sparse_mean_of_duplicates() -> None:
    train = pd.DataFrame({"user_id": [5, 5, 5, 7], "item_id": [1, 1, 3, 3],
                          "event_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01"]),
                          "value": [2.0, 4.0, 1.0, 5.0]})
    enc = encode(train)
    value = interaction_matrix(enc, "value")
    assert sp.issparse(value) and value.shape == (2, 2) and value.dtype == np.float32
    np.testing.assert_array_equal(value.toarray(), [[3.0, 1.0], [0.0, 5.0]])
    np.testing.assert_array_equal(interaction_matrix(enc, "binary").toarray(), [[1, 1], [0, 1]])


@pytest.mark.parametrize("ids", [
    [5, 3, 5, 9, 3, 3],  # a dense span: marked in a table
    [-2, 7, -2, 0],  # negative ids
    [2**62, -(2**62), 17, 2**62],  # a span far wider than the ids: sorted
    [],
])
def test_factorize_is_unique_with_inverse(ids: list[int]) -> None:
    ids = np.array(ids, dtype=np.int64)
    distinct, inverse = factorize(ids)
    expected_distinct, expected_inverse = np.unique(ids, return_inverse=True)
    np.testing.assert_array_equal(distinct, expected_distinct)
    np.testing.assert_array_equal(inverse, expected_inverse)
    assert distinct.dtype == inverse.dtype == np.int64


def test_encode_orders_rows_as_lexsort_by_user_time_item() -> None:
    rng = np.random.default_rng(4)
    n = 2_000
    train = pd.DataFrame({"user_id": rng.integers(0, 5, n) * 7, "item_id": rng.integers(-3, 3, n),  # many ties
                          "event_at": pd.to_datetime(rng.integers(0, 4, n), unit="s"),
                          "value": np.arange(n, dtype=float)})
    enc = encode(train)
    _, user = np.unique(train["user_id"], return_inverse=True)
    _, item = np.unique(train["item_id"], return_inverse=True)
    order = np.lexsort((item, train["event_at"].to_numpy().astype(np.int64), user))  # ties by position
    np.testing.assert_array_equal(enc.value, train["value"].to_numpy()[order])
    np.testing.assert_array_equal(enc.user, user[order])


def test_encode_reads_timestamps_as_utc_seconds() -> None:
    naive = pd.DataFrame({"user_id": [1], "item_id": [2], "value": [1.0],
                          "event_at": pd.to_datetime(["2025-01-01 01:00:00"]).astype("datetime64[us]")})
    aware = naive.assign(event_at=pd.to_datetime(["2025-01-01 02:00:00"]).tz_localize("Europe/Paris"))
    assert encode(naive).t.tolist() == encode(aware).t.tolist() == [1_735_693_200]
    with pytest.raises(FeedlabInputError, match="missing timestamps"):
        encode(naive.assign(event_at=pd.NaT))


def test_top_k_rows_orders_by_score_then_column() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0], [-np.inf, 1.0, -np.inf, 2.0, -np.inf]],
                      dtype=np.float32)
    row, col, score = top_k_rows(scores, 3)
    assert row.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert col.tolist() == [1, 0, 2, 0, 1, 2, 3, 1]
    np.testing.assert_array_equal(score, np.float32([0.9, 0.5, 0.5, 0.0, 0.0, 0.0, 2.0, 1.0]))


def test_top_k_rows_block_bound_matches_full_sort(monkeypatch) -> None:
    monkeypatch.setattr("feedlab.recsys.common.BOUND_BLOCKS", 16)  # 16 blocks of 6 columns + a ragged tail
    rng = np.random.default_rng(0)
    scores = np.round(rng.standard_normal((50, 100)), 1).astype(np.float32)  # many ties
    scores[rng.random(scores.shape) < 0.3] = -np.inf
    scores[7, 3:] = -np.inf  # a row with only 3 finite entries
    row, col, _ = top_k_rows(scores, 5)
    columns = np.broadcast_to(np.arange(100), scores.shape)
    expected = np.lexsort((columns, -scores), axis=1)[:, :5]
    finite = np.isfinite(np.take_along_axis(scores, expected, axis=1))
    assert row.tolist() == np.repeat(np.arange(50), finite.sum(axis=1)).tolist()
    assert col.tolist() == expected[finite].tolist()


@pytest.mark.parametrize("at", [(2, 3), (4, 97)])  # in a block, in the ragged tail
@pytest.mark.parametrize("blocks", [16, 1024])  # the block bound (16 blocks of 6 + a tail), a full partition
def test_top_k_rows_refuses_a_nan_score(at: tuple[int, int], blocks: int, monkeypatch) -> None:
    monkeypatch.setattr("feedlab.recsys.common.BOUND_BLOCKS", blocks)
    scores = np.random.default_rng(0).standard_normal((5, 100)).astype(np.float32)
    scores[at] = np.nan  # a NaN sorts last in a partition: it once shortened the row's list silently
    with pytest.raises(FeedlabInputError, match="scored NaN for 1 of 5 users"):
        top_k_rows(scores, 5)


@pytest.mark.parametrize("case", ["runs", "unsorted_rows", "ragged", "nan", "float32", "empty"])
def test_order_by_row_score_is_lexsort(case: str) -> None:
    rng = np.random.default_rng(1)
    n = 0 if case == "empty" else 3_000
    row = np.sort(rng.integers(0, 40, n))
    col = rng.integers(0, 25, n)  # repeated (row, col) pairs: ties left to position, as lexsort does
    score = np.round(rng.standard_normal(n), 1)  # many ties
    score[rng.random(n) < 0.05] = -np.inf
    score[rng.random(n) < 0.05] = np.inf
    score[rng.random(n) < 0.05] = -0.0
    if case == "unsorted_rows":
        row = rng.permutation(row)
    if case == "ragged":
        row[: n // 2] = 0  # one run of half the entries: padding would exceed the factor
    if case == "nan":
        score[::100] = np.nan
    if case == "float32":
        score = score.astype(np.float32)
    expected = np.lexsort((col, -score, row))
    order = order_by_row_score(row, col, score)
    assert order.dtype == np.int64 or len(order) == 0
    np.testing.assert_array_equal(order, expected)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_top_k_unseen_masks_seen_and_batches(monkeypatch, n_jobs: int) -> None:
    monkeypatch.setattr("feedlab.recsys.common.SCORE_BUDGET_ELEMENTS", 8)  # two rows per batch
    n_users, n_items = 5, 4
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]]))
    scores = np.tile(np.array([4.0, 3.0, 2.0, 1.0], dtype=np.float32), (n_users, 1))
    row, col, score = top_k_unseen(lambda r: scores[r].copy(), seen, np.arange(n_users), 2, n_jobs=n_jobs)
    assert row.tolist() == [0, 0, 1, 2, 2, 4, 4]
    assert col.tolist() == [1, 2, 3, 0, 1, 0, 2]
    assert score.dtype == np.float64


def test_top_k_unseen_on_threads_equals_serial_on_a_low_rank_product(monkeypatch) -> None:
    monkeypatch.setattr("feedlab.recsys.common.SCORE_BUDGET_ELEMENTS", 3 * 5_000)  # 13 batches of 3 rows
    rng = np.random.default_rng(0)
    users, items = rng.standard_normal((40, 30), dtype=np.float32), rng.standard_normal((5_000, 30), dtype=np.float32)
    seen = sp.random(40, 5_000, density=0.01, format="csr", random_state=1)
    serial = top_k_unseen(lambda r: users[r] @ items.T, seen, np.arange(40), 100)
    threaded = top_k_unseen(lambda r: users[r] @ items.T, seen, np.arange(40), 100, n_jobs=3)
    for a, b in zip(serial, threaded):  # BLAS on one thread per worker gives the same float32 products
        np.testing.assert_array_equal(a, b)


def test_map_in_threads_keeps_order_and_gives_blas_its_threads_back() -> None:
    def blas_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    inside = []
    squares = map_in_threads(lambda x: inside.append(blas_threads()) or x * x, list(range(20)), n_jobs=4)
    assert squares == [x * x for x in range(20)]
    assert len(inside) == 20 and all(threads == [1] * len(before) for threads in inside)
    assert blas_threads() == before


def test_top_k_unseen_returns_only_allowed_columns() -> None:
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0]]))
    scores = np.tile(np.array([4.0, 3.0, 2.0, 1.0], dtype=np.float32), (2, 1))
    allowed = np.array([True, False, True, True])
    row, col, _ = top_k_unseen(lambda r: scores[r].copy(), seen, np.arange(2), 3, allowed)
    assert row.tolist() == [0, 0, 1, 1, 1]
    assert col.tolist() == [2, 3, 0, 2, 3]


def test_servable_columns_maps_ids_to_codes() -> None:
    train = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [30, 10, 20], "event_at": pd.Timestamp("2025-01-01"),
                          "value": 1.0})
    enc = encode(train)
    assert servable_columns(enc, None) is None
    assert servable_columns(enc, [20, 99]).tolist() == [False, True, False]  # 99 is not in training: no column


def test_time_split_never_holds_rows_before_the_cut() -> None:
    train, _, _ = planted_world()
    enc = encode(train)
    held = time_split(enc, 3)
    frame = pd.DataFrame({"user": enc.user, "t": enc.t, "item": enc.item, "held": held})
    per_user = frame.groupby("user")
    assert (per_user["held"].sum() == 3).all()
    for _, rows in per_user:
        hist, out = rows[~rows["held"]], rows[rows["held"]]
        assert (hist["t"].max(), hist[hist["t"] == hist["t"].max()]["item"].max()) <= \
               (out["t"].min(), out[out["t"] == out["t"].min()]["item"].min())


def test_time_split_keeps_half_of_short_histories() -> None:
    train = pd.DataFrame({"user_id": [1, 2, 2, 2], "item_id": [1, 1, 2, 3], "value": 1.0,
                          "event_at": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-02", "2025-01-03"])})
    assert time_split(encode(train), 5).tolist() == [False, False, False, True]  # 3 rows: keep 2, hold 1


@pytest.mark.parametrize("unknown", [None, -1])  # a null topic, and the -1 training_inputs writes for one
def test_item_topics_leave_unknown_topics_unknown(unknown) -> None:
    train = pd.DataFrame({"user_id": 1, "item_id": [3, 4, 5, 6], "value": 1.0,
                          "event_at": pd.to_datetime(["2025-01-01"] * 4)})
    items = pd.DataFrame({"item_id": [3, 4, 5, 6], "topic_id": [7, unknown, 5, 7], "length_s": 1.0})
    topic, _ = item_topics(encode(train), items)
    assert topic.tolist() == [1, -1, 0, 1]  # once: -1 was a topic of its own, code 0, and shifted the others


def test_training_examples_ignore_rows_after_the_cut() -> None:
    train, items, _ = planted_world()
    enc = encode(train)
    topic, length = item_topics(enc, items)
    cfg = RetrievalConfig(n_candidates=20, n_components=4)
    base, label = training_examples(enc, topic, length, cfg, 3)
    held = time_split(enc, 3)
    future = enc.t.copy()
    future[held] += 10 * 86_400  # move held-out rows later and change their values: features must not move
    altered = type(enc)(enc.user_ids, enc.item_ids, enc.user, enc.item, future,
                        np.where(held, enc.value * 7.0, enc.value), enc.engagement)
    again, label_again = training_examples(altered, topic, length, cfg, 3)
    pd.testing.assert_frame_equal(base.features, again.features, check_exact=True)
    np.testing.assert_array_equal(label, label_again)
    assert label.sum() > 0


def test_trend_windows_count_only_up_to_reference_time() -> None:
    train = pd.DataFrame({"user_id": [1, 2, 2, 3, 3], "item_id": [9, 9, 8, 9, 8], "value": 1.0,
                          "event_at": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-10",
                                                      "2025-01-09T12:00", "2025-01-20"], format="ISO8601")})
    enc = encode(train)
    topic, length = item_topics(enc, None)
    user1 = np.array([0])  # reference time 2025-01-01: item 9 seen once, that day; nothing later counts
    feats = PairFeaturizer(enc, topic, length)(user1, np.array([1]))
    assert feats[["item_trend_1d", "item_trend_7d", "item_trend_30d"]].iloc[0].tolist() == [1.0, 1.0, 1.0]
    user2 = np.array([1])  # reference 2025-01-10: item 9 on 01-09T12 (1d), 01-05 (7d), 01-01 (30d)
    feats = PairFeaturizer(enc, topic, length)(user2, np.array([1]))
    assert feats[["item_trend_1d", "item_trend_7d", "item_trend_30d"]].iloc[0].tolist() == [1.0, 2.0, 3.0]


def test_fit_svd_switches_to_seeded_randomized_svd_on_large_matrices(monkeypatch) -> None:
    from feedlab.recsys import svd as svd_module

    rng = np.random.default_rng(3)
    low_rank = rng.standard_normal((200, 5)) * [50, 40, 30, 20, 10] @ rng.standard_normal((5, 80))
    matrix = sp.csr_matrix((low_rank + 0.01 * rng.standard_normal((200, 80))).astype(np.float32))
    exact = svd_module.fit_svd(matrix, 5, 42)
    monkeypatch.setattr(svd_module, "RANDOMIZED_MIN_NNZ", 10)
    first, second = svd_module.fit_svd(matrix, 5, 42), svd_module.fit_svd(matrix, 5, 42)
    np.testing.assert_array_equal(first.user_factors, second.user_factors)  # deterministic for a seed
    np.testing.assert_array_equal(first.item_factors, second.item_factors)
    # Same rank-5 subspace as ARPACK (up to sign/rotation): compare the reconstructions.
    np.testing.assert_allclose(first.user_factors @ first.item_factors.T, exact.user_factors @ exact.item_factors.T,
                               rtol=0, atol=1e-2 * np.abs(low_rank).max())


@pytest.mark.parametrize("above_cap", [False, True])
def test_retrieval_uses_svd_above_the_ease_item_cap(above_cap: bool) -> None:
    train, items, _ = planted_world()
    enc = encode(train)
    topic, length = item_topics(enc, items)
    cap = enc.n_items - 1 if above_cap else enc.n_items
    retriever = Retriever(enc, topic, length, RetrievalConfig(n_candidates=5, n_components=4, ease_max_items=cap))
    rows = np.arange(enc.n_users)
    cand = retriever.candidates(rows)
    assert (retriever.primary is retriever.svd) == above_cap
    assert (retriever.recent is None) == above_cap
    assert cand.features["recent_score"].isna().all() == above_cap
    # The candidates are the primary scorer's own top 5 unseen items (PureSVD above the cap, EASE up to it).
    r, c, _ = top_k_unseen(retriever.primary, retriever.matrix, rows, 5)
    np.testing.assert_array_equal(cand.rows, r)
    np.testing.assert_array_equal(cand.cols, c)
    if above_cap:
        np.testing.assert_array_equal(cand.features["retrieval_score"], cand.features["svd_score"])


def test_gather_by_pairs_matches_dense_rows() -> None:
    from feedlab.recsys import retrieval
    from feedlab.recsys.ranker import affinity_scorer
    from feedlab.recsys.svd import fit_svd

    train, items, _ = planted_world()
    enc = encode(train)
    topic, length = item_topics(enc, items)
    matrix = interaction_matrix(enc, "binary")
    model = fit_svd(matrix, 5, 42)
    affinity = affinity_scorer(enc, topic, length)
    rng = np.random.default_rng(0)
    rows = np.sort(rng.integers(0, enc.n_users, 500)).astype(np.int64)
    cols = rng.integers(0, enc.n_items, 500).astype(np.int64)
    dense_svd = retrieval.gather(model.score, rows, cols, enc.n_items, pairs=model.score_pairs)
    dense_aff = retrieval.gather(affinity, rows, cols, enc.n_items)
    np.testing.assert_allclose(retrieval.gather(model.score, rows, cols, enc.n_items, True, model.score_pairs),
                               dense_svd, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(retrieval.gather(affinity, rows, cols, enc.n_items, by_pairs=True), dense_aff)
    assert not retrieval.pair_gather(3_000, 1_200) and retrieval.pair_gather(300_000, 120_000)


@pytest.mark.parametrize(
    ("n_rows", "epochs", "expected"),
    [
        (161_000, 10, (6, 314)),  # the 1x world: whole passes within 2,000 steps, as before
        (161_000, 3, (3, 314)),
        (100, 10, (10, 1)),  # fewer rows than a batch: one (resized) batch per pass
        (17_700_000, 10, (1, 2000)),  # the 100x world: one partial pass, the cost stays bounded
    ],
)
def test_step_schedule_keeps_whole_passes_and_bounds_the_steps(n_rows, epochs, expected):
    assert step_schedule(n_rows, 512, epochs, max_steps=2000) == expected


@pytest.mark.parametrize("name", ["batch_size", "epochs", "max_steps"])
def test_step_schedule_rejects_a_non_positive_count(name: str):
    counts = {"batch_size": 10, "epochs": 1, "max_steps": 100, name: 0}
    with pytest.raises(FeedlabInputError, match=f"^{name} must be an integer >= 1, got 0$"):
        step_schedule(1000, **counts)


def test_partial_epoch_is_the_first_batches_of_the_same_seeded_shuffle():
    full = _epoch_batches(np.random.default_rng(7), 1000, 10)
    partial = _epoch_batches(np.random.default_rng(7), 1000, 10, n_batches=30)
    assert full.shape == (100, 10) and partial.shape == (30, 10)
    np.testing.assert_array_equal(partial, full[:30])
    assert len(np.unique(partial)) == 300  # a sample without repeats
