"""Fast checks of bench/leakage_retrain.py's helpers on hand-made splits; no warehouse, no dbt."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from dbt_helpers import load_bench_script

DAY = pd.Timestamp("2025-01-01")


def at(day: int) -> pd.Timestamp:
    return DAY + pd.Timedelta(days=day)


@pytest.fixture(scope="module")
def retrain():
    return load_bench_script("leakage_retrain.py")


def split_frame(rows: list[tuple[int, int, int, str]]) -> pd.DataFrame:
    """int_split-like rows (user_id, item_id, day, split)."""
    return pd.DataFrame({"user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
                         "event_at": [at(r[2]) for r in rows], "split": [r[3] for r in rows]})


def train_frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    """training_inputs-like rows (user_id, item_id, day)."""
    return pd.DataFrame({"user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
                         "event_at": [at(r[2]) for r in rows], "value": 1.0})


def test_evaluated_users_leave_out_a_test_item_seen_in_training_and_sort_by_test_time(retrain) -> None:
    split = split_frame([(1, 10, 0, "train"), (1, 11, 5, "test"),
                         (2, 10, 0, "train"), (2, 12, 3, "test"),
                         (3, 10, 1, "train"), (3, 10, 2, "test")])  # user 3's test item is a training item
    evaluated = retrain.evaluated_users(split)
    assert evaluated["user_id"].tolist() == [2, 1]
    assert evaluated["test_item_id"].tolist() == [12, 11]
    assert evaluated["test_at"].tolist() == [at(3), at(5)]


def test_slices_cut_in_order_of_test_time(retrain) -> None:
    evaluated = pd.DataFrame({"user_id": [5, 6, 7, 8, 9], "test_item_id": 0, "test_at": [at(d) for d in range(5)]})
    assert [s["user_id"].tolist() for s in retrain.slices(evaluated, 2)] == [[5, 6], [7, 8], [9]]
    assert [s["user_id"].tolist() for s in retrain.slices(evaluated, 1)] == [[5], [6], [7], [8], [9]]


TRAIN = train_frame([(1, 10, 0), (1, 11, 4), (2, 10, 1), (2, 12, 5), (3, 13, 2), (3, 14, 6), (3, 15, 9)])
SLICE = pd.DataFrame({"user_id": [1, 2], "test_item_id": [20, 21], "test_at": [at(3), at(8)]})


def test_slice_history_keeps_rows_before_the_slice_and_the_slice_users_own(retrain) -> None:
    history = retrain.slice_history(TRAIN, SLICE)
    # user 3's day-2 row is before the slice's start (day 3), its later rows are not; users 1 and 2 keep every row
    assert sorted(zip(history["user_id"], history["item_id"])) == [(1, 10), (1, 11), (2, 10), (2, 12), (3, 13)]


def test_slice_exposure_counts_the_rows_after_each_test_and_the_known_rows_left_out(retrain) -> None:
    exposure = retrain.slice_exposure(TRAIN, SLICE).set_index("user_id")
    # user 1 (test day 3): rows of days 4, 5, 6 and 9 come after it; the slice's model sees days 4 and 5 (users 1
    # and 2); no row of user 3 lies between the slice's start (day 3) and the test
    assert exposure.loc[1].tolist() == [4, 2, 0]
    # user 2 (test day 8): day 9 comes after it (user 3's, not in the slice); user 3's day-6 row was known on day 8
    # but is after the slice's start, so the slice's model lacks it
    assert exposure.loc[2].tolist() == [1, 0, 1]


def test_hit_and_ndcg_of_the_test_item(retrain) -> None:
    evaluated = pd.DataFrame({"user_id": [1, 2, 3, 4], "test_item_id": [10, 20, 30, 40],
                              "test_at": [at(0)] * 4})
    recs = pd.DataFrame({"user_id": [1, 1, 2, 2, 2, 3], "item_id": [10, 11, 21, 22, 20, 31],
                         "rank": [1, 2, 1, 2, 3, 1]})
    # user 1: rank 1; user 2: rank 3; user 3: missed; user 4: no list
    figures = retrain.hit_and_ndcg(recs, evaluated, k=3)
    assert figures["n_users"] == 4
    assert figures["hit_rate"] == pytest.approx(0.5)
    assert figures["ndcg"] == pytest.approx((1.0 + 1.0 / math.log2(4)) / 4)
    assert retrain.hit_and_ndcg(recs, evaluated, k=2)["hit_rate"] == pytest.approx(0.25)


def test_popularity_ranks_by_count_then_item_id_without_the_users_items(retrain) -> None:
    train = train_frame([(1, 30, 0), (2, 30, 0), (3, 20, 0), (4, 20, 0), (5, 10, 0), (1, 40, 0)])
    recs, _ = retrain.recommend_popularity(train, [1, 9], k=2)
    # counts: 20 -> 2, 30 -> 2, 10 -> 1, 40 -> 1; ties by item id; user 1 has 30 and 40
    assert recs.values.tolist() == [[1, 20, 1], [1, 10, 2], [9, 20, 1], [9, 30, 2]]
    served, _ = retrain.recommend_popularity(train, [9], k=2, servable=[10, 30])
    assert served["item_id"].tolist() == [30, 10]


def test_time_aware_popularity_does_not_see_what_became_popular_after_a_test(retrain) -> None:
    # item 50 is watched by users 2..4 on days 5..7, after user 1's test (day 2): built once on every training row
    # it is user 1's first item (a hit); retrained on what was known on day 2, item 60 (watched by user 2 on day 0)
    # comes first
    train = train_frame([(1, 70, 0), (2, 60, 0), (2, 50, 5), (3, 50, 6), (4, 50, 7), (3, 61, 1), (4, 62, 1)])
    evaluated = pd.DataFrame({"user_id": [1], "test_item_id": [50], "test_at": [at(2)]})
    result = retrain.policy_leak(retrain.recommend_popularity, 1, {}, train, None, None, evaluated,
                                 retrain.slices(evaluated, 1), k=1)
    assert result["as built"]["hit_rate"] == 1.0
    assert result["time-aware"]["hit_rate"] == 0.0
    assert result["time-aware"]["fits"] == 1


def test_check_as_built_stops_on_a_figure_that_differs_from_the_mart(retrain) -> None:
    figures = {"n_users": 3, "hit_rate": 0.5, "ndcg": 0.25}
    retrain.check_as_built("svd", figures, (3, 0.5, 0.25 + 1e-12))
    with pytest.raises(SystemExit, match="svd as built"):
        retrain.check_as_built("svd", figures, (3, 0.5, 0.26))
    with pytest.raises(SystemExit, match="svd as built"):
        retrain.check_as_built("svd", figures, None)


def report(retrain, slice_users: int, exact_hit: float) -> dict:
    figures = {"n_users": 4, "hit_rate": 0.5, "ndcg": 0.25, "seconds": 0.1}
    aware = {"n_users": 4, "hit_rate": 0.25, "ndcg": 0.125, "fits": 4, "seconds": 0.4}
    stats = {"mean": 2.0, "max": 3}
    return {"dataset": "movielens", "k": 10, "command": "cmd", "started": "now", "load_average_at_start": [0.1],
            "n_users": 4, "n_slices": 4 // slice_users, "slice_users": slice_users, "n_train_rows": 9,
            "policies": {"popularity": {"as built": figures, "time-aware": aware},
                         "svd": {"as built": figures, "time-aware": aware}},
            "popularity_exact": {"n_users": 4, "hit_rate": exact_hit, "ndcg": 0.125},
            "exposure": {"rows_after_test_as_built": stats, "rows_after_test_in_slice": stats,
                         "rows_known_left_out": stats}}


def test_markdown_reports_each_policy_and_whether_popularity_matches_the_exact_counts(retrain) -> None:
    text = retrain.markdown(report(retrain, 1, 0.25))
    assert "| svd | 0.5000 | 0.2500 | 0.2500 | 0.1250 | 2.00x | 1 + 4, 0.1 + 0.4 s |" in text
    assert "row above equals it (one user per slice: a check of the retraining)." in text
    assert "row above **differs from it** (one user per slice" in retrain.markdown(report(retrain, 1, 0.3))
    assert "row above differs from it by the slicing's own error." in retrain.markdown(report(retrain, 2, 0.3))
    assert "row above equals it: the slices of several users change nothing" in retrain.markdown(
        report(retrain, 2, 0.25))
