"""KuaiRec's own protocol end to end (var kuairec_protocol: big_to_small) on a generated KuaiRec-shaped folder
(feedlab.sources.kuairec_shaped, 30 x 40 small, 60 x 120 big): train on the big matrix, evaluate on the fully
observed small one, serve only small-matrix videos."""
from __future__ import annotations

import pandas as pd
import pytest

from dbt_helpers import query
from feedlab.sources.kuairec_shaped import write_kuairec_shaped

PROTOCOL = {"kuairec_use_big_matrix": True, "kuairec_protocol": "big_to_small",
            # the TensorFlow policies rank through the same masked top-K (tests/python/recsys) and only add minutes
            "python_policies": ["svd", "two_stage_lgbm"]}


@pytest.fixture(scope="module")
def kuairec_folder(tmp_path_factory):
    return write_kuairec_shaped(tmp_path_factory.mktemp("kuairec"))


def test_big_to_small_trains_on_big_and_evaluates_on_small(dbt_build, kuairec_folder):
    small = pd.read_csv(kuairec_folder / "small_matrix.csv")
    big = pd.read_csv(kuairec_folder / "big_matrix.csv")
    warehouse = dbt_build("kuairec", {"kuairec_path": str(kuairec_folder), **PROTOCOL})

    # The split: the big matrix trains; the small matrix is held out, its likes (watch_ratio > 2) are the test set.
    splits = dict(query(warehouse, "select split, count(*) from int_split group by split"))
    assert splits == {"train": len(big), "test": int((small["watch_ratio"] > 2).sum()),
                      "holdout": int((small["watch_ratio"] <= 2).sum())}
    small_videos = set(small["video_id"])
    small_users = set(small["user_id"])

    # Policies rank only the small matrix's videos, each user's unseen ones (SQL policies: all of them, as
    # top_k exceeds the small matrix).
    assert {r[0] for r in query(warehouse, "select distinct item_id from fct_recommendations")} <= small_videos
    seen = big.groupby("user_id")["video_id"].agg(set)
    for policy in ("popularity", "random"):
        served = dict(query(warehouse, "select user_id, count(*) from fct_recommendations "
                                       f"where policy = '{policy}' group by user_id"))
        assert served == {user: len(small_videos - videos) for user, videos in seen.items()}, policy
    policies = {r[0] for r in query(warehouse, "select distinct policy from fct_recommendations")}
    assert policies >= {"svd", "two_stage_lgbm"}

    # Evaluated: the small-matrix users with a like; coverage and creators over the small matrix's catalogue.
    liked_users = set(small.loc[small["watch_ratio"] > 2, "user_id"])
    assert query(warehouse, "select distinct n_users_evaluated from fct_offline_metrics") == [(len(liked_users),)]
    assert query(warehouse, "select distinct n_items_catalog from fct_fairness") == [(len(small_videos),)]
    small_creators = {r[0] for r in query(warehouse, "select distinct creator_id from stg_items where item_id in ("
                                                     + ", ".join(str(v) for v in small_videos) + ")")}
    assert query(warehouse, "select distinct n_creators from fct_fairness") == [(len(small_creators),)]
    assert query(warehouse, "select distinct n_creators from fct_ab_fairness") == [(len(small_creators),)]

    # Experiments: only small-matrix users, and every served video has its observed outcome.
    assigned = {r[0] for r in query(warehouse, "select distinct user_id from dim_assignments")}
    assert assigned == small_users
    exposures, observed = query(warehouse, "select count(*), count(watch_time_s) from fct_outcomes")[0]
    assert exposures > 0 and observed == exposures
    # The two-towers are not trained here, so the experiment between them is left out rather than reported empty.
    experiments = {r[0] for r in query(warehouse, "select distinct experiment_id from dim_experiments")}
    assert experiments == {"pop_vs_svd", "svd_vs_lgbm", "three_arm", "aa_popularity", "seed_feeds_online"}
    assert query(warehouse, "select count(*) from fct_ab_results where n_control = 0 or n_treatment = 0") == [(0,)]


def test_leave_last_out_default_builds_the_whole_warehouse(dbt_build, kuairec_folder):
    """The default split on the same folder: every model and data test passes, one test event per user with two
    or more interactions, and policies rank the whole catalogue."""
    small = pd.read_csv(kuairec_folder / "small_matrix.csv")
    big = pd.read_csv(kuairec_folder / "big_matrix.csv")
    warehouse = dbt_build("kuairec", {"kuairec_path": str(kuairec_folder), "kuairec_use_big_matrix": True,
                                      "python_policies": PROTOCOL["python_policies"]})
    per_user = pd.concat([small, big])["user_id"].value_counts()
    assert query(warehouse, "select count(*) from int_split where split = 'test'") == [(int((per_user >= 2).sum()),)]
    assert query(warehouse, "select count(*) from int_split where split = 'holdout'") == [(0,)]
    n_items = query(warehouse, "select count(*) from stg_items")
    assert query(warehouse, "select count(*) from int_servable_items") == n_items
    # Served videos the user never watched have no observed outcome: every outcome column is null there, the
    # capped completion rate included (least() skips a null, so it must not be the whole expression).
    unobserved, with_outcome = query(warehouse, "select count(*), count(completion_rate) + count(is_like) "
                                                "+ count(engagement_score) from fct_outcomes where watch_time_s is null")[0]
    assert unobserved > 0 and with_outcome == 0


@pytest.mark.parametrize("dataset, dbt_vars, message", [
    ("kuairec", {"kuairec_protocol": "big_to_small"},
     "big_to_small trains on the big matrix: set kuairec_use_big_matrix: true"),
    ("synthetic", {"kuairec_protocol": "big_to_small"},
     "big_to_small applies to dataset kuairec only (dataset is synthetic)"),
    ("kuairec", {"kuairec_protocol": "newest_day"},
     "var 'kuairec_protocol' is 'newest_day'; expected one of leave_last_out, big_to_small"),
    ("kuairec", {"kuairec_protocol": "big_to_small", "kuairec_use_big_matrix": True, "split_protocol": "temporal"},
     "big_to_small is a split of its own: it cannot be combined with split_protocol temporal"),
])
def test_protocol_misuse_is_refused_by_name(dbt_build, kuairec_folder, capfd, dataset, dbt_vars, message):
    with pytest.raises(SystemExit, match="dbt build failed"):
        dbt_build(dataset, {"kuairec_path": str(kuairec_folder), **dbt_vars})
    output = capfd.readouterr().out
    assert message in output
    assert "OK created" not in output
