"""Feedback loop: replay a small world day by day (var as_of_day) into ONE warehouse folder.

Each dbt_build call goes through feedlab.build, which copies the published warehouse as the incremental base, so the
builds below continue from each other exactly as successive daily runs would.
"""
from __future__ import annotations

import hashlib
import json
import math

import duckdb
import numpy as np
import pytest

from dbt_helpers import SMALL_WORLD, query
from feedlab.world import WorldConfig, generate_world

# The loop's mechanics do not depend on which policies run; the TensorFlow ones only add minutes per replayed day.
WORLD = {**SMALL_WORLD, "n_days": 10, "python_policies": ["svd", "two_stage_lgbm"]}
OFFLINE_METRICS = {"n_users_evaluated", "hit_rate", "recall", "ndcg", "mrr", "coverage", "mean_item_popularity"}
CUTOFFS = {5, 10, 20, 50, 100}
GRAIN = "as_of_day, source, policy, experiment_id, arm, metric, statistic, k"


def world_ids_up_to(day: int) -> set[int]:
    """interaction_id of every generated interaction whose event falls on days 1..day (day 1 = start_date)."""
    cfg = WorldConfig(**{k: WORLD[k] for k in ("n_users", "n_videos", "n_creators", "n_interactions", "n_days")})
    _, interactions = generate_world(cfg)
    cut = np.datetime64(cfg.start_date, "us") + np.timedelta64(day, "D")
    return set(interactions.loc[interactions["event_at"] < cut, "interaction_id"].astype(int))


def history(warehouse) -> dict[tuple, float]:
    rows = query(warehouse, f"select {GRAIN}, value from fct_metrics_daily")
    return {row[:-1]: row[-1] for row in rows}


def assert_same_history(a: dict[tuple, float], b: dict[tuple, float]) -> None:
    """Same keys; values equal up to float re-association (DuckDB's parallel sums are not bit-reproducible)."""
    assert a.keys() == b.keys()
    for key, value in a.items():
        other = b[key]
        if value is None or other is None or (math.isnan(value) and math.isnan(other)):
            assert (value is None) == (other is None), key
            continue
        assert other == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_replaying_days_loads_each_interaction_once_and_keeps_one_history_row_per_day(dbt_build, capfd):
    before: dict[int, dict[tuple, float]] = {}
    for day in (1, 2, 3):
        warehouse = dbt_build("synthetic", {**WORLD, "as_of_day": day})
        expected = world_ids_up_to(day)

        # No interaction lost or duplicated, and everything downstream retrained on exactly that log.
        (n_rows, n_ids, max_day), = query(
            warehouse, "select count(*), count(distinct interaction_id), max(event_day) from int_interaction_log"
        )
        assert n_rows == n_ids == len(expected)
        assert max_day == day
        loaded = {row[0] for row in query(warehouse, "select interaction_id from int_interaction_log")}
        assert loaded == expected
        assert query(warehouse, "select count(*) from int_split") == [(len(expected),)]
        # Rows loaded by earlier days were not re-inserted by later ones.
        assert query(
            warehouse, "select count(*) from int_interaction_log where loaded_as_of_day <> event_day"
        ) == [(0,)]

        # History: days 1..N, one row per day × policy × metric × K, earlier days kept as they were.
        assert [r[0] for r in query(warehouse, "select distinct as_of_day from fct_metrics_daily order by 1")] == list(
            range(1, day + 1)
        )
        assert query(warehouse, f"select {GRAIN}, count(*) from fct_metrics_daily group by all having count(*) > 1") == []
        policies = {r[0] for r in query(warehouse, "select policy from fct_model_runs")}
        offline = query(
            warehouse,
            "select as_of_day, policy, metric, k from fct_metrics_daily where source = 'offline_metrics'",
        )
        assert len(offline) == day * len(policies) * len(OFFLINE_METRICS) * len(CUTOFFS)
        assert {(d, p, m, k) for d, p, m, k in offline} == {
            (d, p, m, k) for d in range(1, day + 1) for p in policies for m in OFFLINE_METRICS for k in CUTOFFS
        }
        # Creator fairness per policy × K and per experiment arm, every day.
        fairness_days = query(warehouse, "select as_of_day, count(*) from fct_metrics_daily where source = 'fairness' "
                                         "and metric = 'gini_all_creators' group by 1 order by 1")
        assert fairness_days == [(d, 2 * len(policies)) for d in range(1, day + 1)]  # K = 10 and top_k
        arms = query(warehouse, "select count(*) from dim_experiments")[0][0]
        assert query(warehouse, "select count(*) from fct_metrics_daily where source = 'ab_fairness' "
                                f"and metric = 'gini_exposed' and as_of_day = {day}") == [(arms,)]
        assert query(
            warehouse,
            "select value from fct_metrics_daily where source = 'interaction_log' and metric = 'interactions' "
            f"and as_of_day = {day}",
        ) == [(float(len(expected)),)]
        current = history(warehouse)
        for earlier, rows in before.items():
            assert_same_history(rows, {key: v for key, v in current.items() if key[0] == earlier})
        before[day] = {key: v for key, v in current.items() if key[0] == day}

    # Day 3 again: nothing inserted twice, the same tables.
    log_before = query(warehouse, "select * from int_interaction_log order by interaction_id")
    history_before = history(warehouse)
    warehouse = dbt_build("synthetic", {**WORLD, "as_of_day": 3})
    assert query(warehouse, "select * from int_interaction_log order by interaction_id") == log_before
    assert_same_history(history_before, history(warehouse))

    # Going back is refused by name, and the published warehouse is untouched.
    capfd.readouterr()
    with pytest.raises(SystemExit, match="dbt build failed"):
        dbt_build("synthetic", {**WORLD, "as_of_day": 2})
    output = capfd.readouterr().out
    assert "as_of_day 2 is before day 3" in output
    assert 'make build VARS="{as_of_day: 2}" DBT_ARGS=--full-refresh' in output
    # Refused by the on-run-start guard, before any node: on Spark, whose tables are written in place, nothing
    # else may have been rebuilt either.
    assert "OK created" not in output
    assert query(warehouse, "select max(as_of_day) from fct_metrics_daily") == [(3,)]
    assert query(warehouse, "select count(*) from int_interaction_log") == [(len(world_ids_up_to(3)),)]

    # So is a next day of another world (other vars), which would mix two worlds in one log.
    with pytest.raises(SystemExit, match="dbt build failed"):
        dbt_build("synthetic", {**WORLD, "noise_sd": 0.2, "as_of_day": 4})
    output = capfd.readouterr().out
    # the one var that changed, with the replay's value and the refused run's
    assert "come from another source (noise_sd was '0.1', now '0.2'); continuing" in output
    assert "OK created" not in output
    assert query(warehouse, "select max(as_of_day) from fct_metrics_daily") == [(3,)]

    # So is a build without as_of_day, whose snapshot would replace the replay's daily history.
    with pytest.raises(SystemExit, match="dbt build failed"):
        dbt_build("synthetic", WORLD)
    output = capfd.readouterr().out
    assert "holds a day-by-day replay (up to day 3" in output and "--full-refresh" in output
    assert "OK created" not in output
    assert query(warehouse, "select distinct as_of_day from fct_metrics_daily order by 1") == [(1,), (2,), (3,)]

    # A day that is no whole number >= 1, or past the world's last day, is named in a one-line error.
    for bad, message in (("two", "var 'as_of_day' must be"), (0, "var 'as_of_day' must be"),
                         (11, "var 'as_of_day' is 11, past the synthetic world's last day (n_days: 10)")):
        with pytest.raises(SystemExit, match="dbt build failed"):
            dbt_build("synthetic", {**WORLD, "as_of_day": bad})
        output = capfd.readouterr().out
        assert message in output and str(bad) in output
        assert "OK created" not in output
    # ... and a bad n_days beside a good as_of_day is n_days' error, not as_of_day's
    for bad in ("abc", 0):
        with pytest.raises(SystemExit, match="dbt build failed"):
            dbt_build("synthetic", {**WORLD, "n_days": bad, "as_of_day": 1})
        output = capfd.readouterr().out
        assert f"var 'n_days' must be a whole number >= 1, got {json.dumps(bad)}" in output
        assert "past the synthetic world's last day" not in output
        assert "OK created" not in output

    # A day without new interactions (day 4 here, as MovieLens' days 83 and 88) adds history rows but no log row:
    # the replay's last day is still named right, and the day it advises is not refused.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into fct_metrics_daily select * replace (4 as as_of_day) from fct_metrics_daily "
                    "where as_of_day = 3")
    with pytest.raises(SystemExit, match="dbt build failed"):
        dbt_build("synthetic", WORLD)
    output = capfd.readouterr().out
    assert "holds a day-by-day replay (up to day 4," in output and "as_of_day >= 4," in output
    with pytest.raises(SystemExit, match="dbt build failed"):
        dbt_build("synthetic", {**WORLD, "as_of_day": 3})
    assert "as_of_day 3 is before day 4, the latest day already in this warehouse (fct_metrics_daily)" in (
        capfd.readouterr().out)


def test_a_file_data_sets_replay_refuses_a_day_past_its_data_and_replaced_files(dbt_build, ml100k_dir, tmp_path):
    # Loaded, it would take every interaction and then refuse each real day after it (days only move forward).
    # a quote in the path: source_vars records such a value by its md5, so that no SQL literal needs escaping;
    # glob characters: the folder's listing once matched nothing there, so replaced files went unnoticed
    folder = tmp_path / "ml-100k [o'three] days?*"
    folder.mkdir()
    for name in ("u.item", "u.user"):
        (folder / name).write_bytes((ml100k_dir / name).read_bytes())
    first_day = 946720800  # 2000-01-01 10:00 UTC
    (folder / "u.data").write_text("".join(f"{user}\t{item + day}\t4\t{first_day + 86400 * day}\n"
                                           for day in range(3) for user, item in ((1, 1), (2, 5))))
    movielens = {"movielens_path": str(folder)}
    with pytest.raises(SystemExit) as refused:
        dbt_build("movielens", {**movielens, "as_of_day": 4}, select=["+int_interaction_log"])
    assert "var as_of_day is 4, past the last day of the movielens interactions (day 3)" in str(refused.value)
    assert "nothing was published" in str(refused.value)

    warehouse = dbt_build("movielens", {**movielens, "as_of_day": 3}, select=["+int_interaction_log"])
    assert query(warehouse, "select count(*), max(event_day) from int_interaction_log") == [(6, 3)]
    # The same day again over the same files continues the replay; files replaced under the same path do not.
    dbt_build("movielens", {**movielens, "as_of_day": 3}, select=["+int_interaction_log"])
    with (folder / "u.data").open("a") as ratings:
        ratings.write(f"3\t9\t4\t{first_day + 86400 * 2}\n")
    with pytest.raises(SystemExit, match=r"come from another source \(movielens_files was '[0-9a-f]{32}', now "
                                         r"'[0-9a-f]{32}'\); continuing"):
        dbt_build("movielens", {**movielens, "as_of_day": 3}, select=["+int_interaction_log"])
    assert query(warehouse, "select count(*) from int_interaction_log") == [(6,)]
    recorded = json.loads(query(warehouse, "select distinct source_vars from int_interaction_log")[0][0])
    assert recorded["dataset"] == "movielens"
    assert recorded["movielens_path"] == "md5:" + hashlib.md5(str(folder).encode()).hexdigest()

    # A log from before source_vars (it kept only their md5) cannot be checked: refused, with the way out.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table int_interaction_log rename column source_vars to source_fingerprint")
    with pytest.raises(SystemExit, match="int_interaction_log has no column source_vars .* --full-refresh"):
        dbt_build("movielens", {**movielens, "as_of_day": 3}, select=["+int_interaction_log"])
