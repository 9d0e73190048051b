"""MovieLens-100K through dbt: counts, and its own warehouse file beside the synthetic one."""
from __future__ import annotations

from dbt_helpers import SMALL_WORLD, query

FOUNDATION = ["+int_split", "+int_item_popularity", "+int_user_history"]


def test_data_sets_build_into_separate_files(dbt_build, ml100k_dir):
    synthetic = dbt_build("synthetic", SMALL_WORLD, select=["+stg_interactions"])
    movielens = dbt_build("movielens", {"movielens_path": str(ml100k_dir)}, select=["+stg_interactions"])
    assert synthetic != movielens
    assert query(synthetic, "select count(*) from stg_interactions") == [(SMALL_WORLD["n_interactions"],)]


def test_movielens_build_counts(dbt_build, ml100k_dir):
    warehouse = dbt_build("movielens", {"movielens_path": str(ml100k_dir)}, select=FOUNDATION)
    [(n_interactions, n_users, n_items, n_test, n_stg_items)] = query(
        warehouse,
        "select count(*), count(distinct user_id), count(distinct item_id), "
        "count(*) filter (where split = 'test'), (select count(*) from stg_items) from int_split",
    )
    assert (n_interactions, n_users, n_items, n_test, n_stg_items) == (100_000, 943, 1_682, 943, 1_682)
