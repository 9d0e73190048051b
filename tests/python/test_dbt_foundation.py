"""End-to-end dbt builds of the foundation layers (sources, staging, intermediate) into temporary warehouses, and of
the seed-compat world up to its BI mart fct_seed_reproduction."""
from __future__ import annotations

import hashlib

import pytest

from dbt_helpers import SMALL_WORLD, query

FOUNDATION = ["+int_split", "+int_item_popularity", "+int_user_history"]


# The seed notebook's printed figures (TikTok.ipynb, cells 32, 39, 40, 49, 51), to 4 significant digits.
SEED_FIGURES_4_DIGITS = {
    "control_watch_time_s": "1.473e+01",
    "treatment_watch_time_s": "2.235e+01",
    "uplift_pct": "5.167e+01",
    "p_value": "2.405e-55",
    "creator_gini_control": "0.000e+00",
    "creator_gini_treatment": "5.445e-01",
    "long_tail_share_control": "0.000e+00",
    "long_tail_share_treatment": "4.592e-01",
    "user_42_svd_top5_rank1": "7.620e+02",
    "user_42_svd_top5_rank2": "2.930e+02",
    "user_42_svd_top5_rank3": "9.000e+01",
    "user_42_svd_top5_rank4": "4.300e+01",
    "user_42_svd_top5_rank5": "7.810e+02",
}


FIGURES_WITH_AN_ONLINE_COUNTERPART = [name for name in SEED_FIGURES_4_DIGITS if not name.startswith("user_42")]


def test_seed_compat_world_reproduces_seed_figures_in_the_warehouse(dbt_build):
    warehouse = dbt_build("synthetic", {"seed_compat": True}, select=[*FOUNDATION, "+fct_seed_reproduction"])
    figures = dict(query(warehouse, "select figure, warehouse_value from int_seed_reproduction"))
    figures |= dict(query(
        warehouse,
        "select 'user_42_svd_top5_rank' || rank, video_id from int_seed_svd_feeds where user_id = 42 and rank <= 5",
    ))
    assert {name: f"{value:.3e}" for name, value in figures.items()} == SEED_FIGURES_4_DIGITS
    # the BI mart sets them beside the printed values (its data tests ran in the build: matches is always true)
    mart = query(warehouse,
                 "select figure, warehouse_value, matches, honest_value is not null from fct_seed_reproduction")
    assert {figure: (value, matches) for figure, value, matches, _ in mart} == {
        name: (value, True) for name, value in figures.items()}
    assert {figure for figure, *_, has_honest in mart if has_honest} == set(FIGURES_WITH_AN_ONLINE_COUNTERPART)
    # SciPy's ttest_ind on the same per-user values gives 2.4049013695309e-55; the SQL p-value is within 2e-7.
    assert figures["p_value"] == pytest.approx(2.4049013695309246e-55, rel=2e-7)
    assert figures["creator_gini_treatment"] == pytest.approx(0.5445474074074075, rel=1e-12)
    [(first,)] = query(
        warehouse,
        "select struct_pack(user_id, item_id, creator_id, topic_id, item_length_s, watch_time_s, completion_rate) "
        "from stg_interactions where interaction_id = 0",
    )
    assert first == {
        "user_id": 2559, "item_id": 400, "creator_id": 252, "topic_id": 0,
        "item_length_s": 32.0, "watch_time_s": pytest.approx(1.6), "completion_rate": pytest.approx(0.05),
    }
    [(mean_engagement, n_creators, density, n_rows)] = query(
        warehouse,
        "select avg(engagement_score), count(distinct creator_id), "
        "count(distinct (user_id, item_id)) / (3000 * 1200.0), count(*) from int_engagement",
    )
    assert n_rows == 180_000
    assert mean_engagement == pytest.approx(0.0891405, abs=5e-8)
    assert n_creators == 291
    assert density == pytest.approx(0.0487592, abs=5e-8)


def test_split_holds_out_exactly_the_latest_event_per_user(dbt_build):
    warehouse = dbt_build("synthetic", SMALL_WORLD, select=FOUNDATION)
    [(n_test, n_users_with_two)] = query(
        warehouse,
        "select (select count(*) from int_split where split = 'test'), "
        "(select count(*) from (select user_id from int_split group by 1 having count(*) >= 2))",
    )
    assert n_test == n_users_with_two
    [(later_train_events,)] = query(
        warehouse,
        "select count(*) from int_split tr join int_split te on tr.user_id = te.user_id "
        "where tr.split = 'train' and te.split = 'test' "
        "and (tr.event_at, tr.interaction_id) > (te.event_at, te.interaction_id)",
    )
    assert later_train_events == 0


def test_failed_build_leaves_previous_warehouse_unchanged(dbt_build):
    warehouse = dbt_build("synthetic", SMALL_WORLD, select=FOUNDATION)
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    # a date with the right shape but no calendar day passes the on-run-start checks and fails in the first node
    with pytest.raises(SystemExit, match="previous warehouse .* is unchanged"):
        dbt_build("synthetic", {**SMALL_WORLD, "start_date": "2025-02-30"}, select=FOUNDATION)
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert query(warehouse, "select count(*) from int_split") == [(SMALL_WORLD["n_interactions"],)]
    # no scratch copy is left behind, only the (released) lock file of feedlab.build
    assert [path.name for path in (warehouse.parent / ".building").iterdir()] == ["synthetic.lock"]


def test_unknown_data_set_is_refused_by_name(dbt_build):
    with pytest.raises(SystemExit, match="unknown data set 'moviesss'"):
        dbt_build("moviesss", {})
