"""MovieLens-100K through dbt: counts, its own warehouse file, and the offline metrics against plain NumPy."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dbt_helpers import SMALL_WORLD, query
from feedlab.build import build


@pytest.fixture(scope="module")
def movielens(tmp_path_factory: pytest.TempPathFactory, ml100k_dir: Path) -> Path:
    """One full MovieLens-100K build (every policy and mart) shared by this module's tests."""
    tmp = tmp_path_factory.mktemp("movielens")
    args = ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    return build("movielens", {"movielens_path": str(ml100k_dir)}, tmp / "warehouse", args)


def test_data_sets_build_into_separate_files(dbt_build, movielens):
    synthetic = dbt_build("synthetic", SMALL_WORLD, select=["+stg_interactions"])
    assert synthetic.name == "synthetic.duckdb" and movielens.name == "movielens.duckdb"
    assert query(synthetic, "select count(*) from stg_interactions") == [(SMALL_WORLD["n_interactions"],)]


def test_movielens_build_counts(movielens):
    [(n_interactions, n_users, n_items, n_test, n_stg_items)] = query(
        movielens,
        "select count(*), count(distinct user_id), count(distinct item_id), "
        "count(*) filter (where split = 'test'), (select count(*) from stg_items) from int_split",
    )
    assert (n_interactions, n_users, n_items, n_test, n_stg_items) == (100_000, 943, 1_682, 943, 1_682)


def _numpy_metrics(recs: pd.DataFrame, relevant: pd.DataFrame, k: int) -> pd.DataFrame:
    """Hit/Recall/NDCG/MRR@k per policy, computed independently of the SQL (binary relevance, log2 discount)."""
    rows = []
    relevant_sets = relevant.groupby("user_id")["item_id"].apply(set).to_dict()
    for policy, group in recs[recs["rank"] <= k].groupby("policy"):
        feeds = group.sort_values(["user_id", "rank"]).groupby("user_id")["item_id"].apply(list).to_dict()
        hit, recall, ndcg, mrr = [], [], [], []
        for user, items in relevant_sets.items():
            feed = feeds.get(user, [])
            gains = np.array([1.0 if item in items else 0.0 for item in feed])
            discounts = 1.0 / np.log2(np.arange(2, len(feed) + 2))
            ideal = (1.0 / np.log2(np.arange(2, min(len(items), k) + 2))).sum()
            first = np.flatnonzero(gains)
            hit.append(float(gains.any()))
            recall.append(gains.sum() / len(items))
            ndcg.append((gains * discounts).sum() / ideal)
            mrr.append(1.0 / (first[0] + 1) if len(first) else 0.0)
        rows.append({"policy": policy, "hit_rate": np.mean(hit), "recall": np.mean(recall),
                     "ndcg": np.mean(ndcg), "mrr": np.mean(mrr)})
    return pd.DataFrame(rows).set_index("policy").sort_index()


@pytest.mark.parametrize("k", [10, 50])
def test_offline_metrics_equal_an_independent_numpy_implementation(movielens, k):
    import duckdb

    with duckdb.connect(str(movielens), read_only=True) as con:
        recs = con.sql("select policy, user_id, item_id, rank from fct_recommendations").df()
        relevant = con.sql(
            "select distinct t.user_id, t.item_id from int_split t "
            "left join (select distinct user_id, item_id from int_split where split = 'train') s "
            "on s.user_id = t.user_id and s.item_id = t.item_id where t.split = 'test' and s.item_id is null"
        ).df()
        marts = con.sql(
            f"select policy, hit_rate, recall, ndcg, mrr from fct_offline_metrics where k = {k}"
        ).df().set_index("policy").sort_index()
    expected = _numpy_metrics(recs, relevant, k)
    assert list(marts.index) == list(expected.index)
    np.testing.assert_allclose(marts.to_numpy(), expected[marts.columns].to_numpy(), rtol=0, atol=1e-9)


def test_a_bad_file_stops_the_build_with_its_line_as_the_last_word(dbt_build, ml100k_dir, tmp_path):
    folder = tmp_path / "ml-100k-bad"
    folder.mkdir()
    for name in ("u.item", "u.user"):
        (folder / name).write_bytes((ml100k_dir / name).read_bytes())
    (folder / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t874965758000\n")  # milliseconds on line 2
    with pytest.raises(SystemExit) as failed:
        dbt_build("movielens", {"movielens_path": str(folder)}, select=["+stg_interactions"])
    assert str(failed.value) == (
        f"feedlab: dbt build failed for data set 'movielens': {folder / 'u.data'}: unix timestamp 874965758000 is "
        "not a time in Unix seconds between 1970 and 2100 (milliseconds? a negative time?) on line 2; nothing was "
        "published.")


def test_a_temporal_split_trains_only_on_rows_before_its_cut(dbt_build, ml100k_dir):
    warehouse = dbt_build("movielens", {"movielens_path": str(ml100k_dir), "split_protocol": "temporal",
                                        "python_policies": ["svd"]}, select=["+fct_offline_metrics"])
    [(last_train, first_held_out, held_out_share)] = query(
        warehouse, "select max(event_at) filter (where split = 'train'), min(event_at) filter (where split <> 'train'), "
                   "avg(cast(split <> 'train' as double)) from int_split")
    assert last_train < first_held_out
    assert 0.09 <= held_out_share <= 0.11  # temporal_test_share 0.1, ties on the cut's time kept in training
    trained = "exists (select 1 from int_split as t where t.split = 'train' and t.user_id = s.user_id)"
    assert query(warehouse, f"select count(*) filter (where split = 'test' and not {trained}), "
                            f"count(*) filter (where split = 'holdout' and {trained}) from int_split as s") == [(0, 0)]
    relevant_users = query(warehouse, "select count(distinct user_id) from int_split as s where split = 'test' and "
                                      "not exists (select 1 from int_split as t where t.split = 'train' "
                                      "and t.user_id = s.user_id and t.item_id = s.item_id)")[0][0]
    evaluated = dict(query(warehouse, "select policy, n_users_evaluated from fct_offline_metrics where k = 10"))
    assert relevant_users > 0 and evaluated == {"popularity": relevant_users, "popularity_engagement": relevant_users,
                                                "random": relevant_users, "svd": relevant_users}
