"""Fast checks of bench/seed_method.py's seed-side formulas and timing protocol. No timing assertions."""
from __future__ import annotations

from types import SimpleNamespace

import duckdb
import numpy as np
import pytest

from dbt_helpers import load_bench_script


@pytest.fixture(scope="module")
def seed_bench():
    return load_bench_script("seed_method.py")


def test_seed_gini_and_long_tail_match_the_hand_computed_fairness_case(seed_bench):
    # the fct_fairness unit test's policy a: exposed creators [1, 2, 3, 4, 10]
    exposure = [10, 1, 4, 2, 3]
    assert seed_bench.gini(exposure) == pytest.approx(0.4, abs=1e-15)
    assert seed_bench.long_tail_share(exposure) == pytest.approx(0.5, abs=1e-15)
    assert seed_bench.gini([5, 5]) == pytest.approx(0.0, abs=1e-15)
    assert seed_bench.gini([0, 0]) == 0.0


def test_timed_rounds_runs_every_side_cold_then_warm_round_by_round(seed_bench):
    calls = []
    seconds = seed_bench.timed_rounds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeat=3)
    assert calls == ["a", "a", "b", "b"] * 3
    assert set(seconds) == {"a", "b"}
    for by_state in seconds.values():
        assert list(by_state) == list(seed_bench.STATES) == ["cold", "warm"]
        assert all(len(values) == 3 and min(values) >= 0 for values in by_state.values())


def test_speed_ups_divide_seed_time_by_warehouse_time_per_state(seed_bench):
    seconds = {
        "seed_pandas_loop": {"cold": [1.0, 2.0, 3.0], "warm": [2.0, 2.0, 2.0]},
        f"warehouse_{seed_bench.THAT_PART}": {"cold": [0.01, 0.02, 0.04], "warm": [0.01, 0.01, 0.01]},
        f"warehouse_{seed_bench.FEEDS_MODEL}": {"cold": [0.01, 0.01, 0.01], "warm": [0.01, 0.01, 0.01]},
    }
    ratios = seed_bench.speed_ups(seconds)
    assert ratios["cold"]["warehouse_median"] == 100.0  # 2.0 / 0.02
    assert ratios["cold"]["warehouse_min"] == 100.0  # 1.0 / 0.01
    assert ratios["cold"]["both_models_median_seconds"] == 0.03
    assert ratios["warm"]["warehouse_median"] == 200.0
    assert ratios["warm"]["both_models_median"] == 100.0


def test_ratio_interval_resamples_both_sides_of_a_round_together(seed_bench):
    # the seed side is exactly 100 times the warehouse's in every round, while the rounds' load varies tenfold:
    # resampling rounds in pairs gives exactly 100, resampling the sides apart would not
    warehouse = [0.01 * (1 + round_ % 10) for round_ in range(31)]
    seed = [100 * seconds for seconds in warehouse]
    assert seed_bench.ratio_of_medians_interval(seed, warehouse) == pytest.approx((100.0, 100.0), rel=1e-12)


def test_ratio_interval_holds_the_point_estimate_and_is_reproducible(seed_bench):
    rng = np.random.default_rng(1)
    seed, warehouse = list(1.4 + rng.normal(0, 0.05, 31)), list(0.014 + rng.gamma(2, 0.001, 31))
    low, high = seed_bench.ratio_of_medians_interval(seed, warehouse)
    assert low < np.median(seed) / np.median(warehouse) < high
    assert (low, high) == seed_bench.ratio_of_medians_interval(seed, warehouse)
    ratios = seed_bench.speed_ups({
        "seed_pandas_loop": {"cold": seed, "warm": seed},
        f"warehouse_{seed_bench.THAT_PART}": {"cold": warehouse, "warm": warehouse},
        f"warehouse_{seed_bench.FEEDS_MODEL}": {"cold": warehouse, "warm": warehouse},
    })
    assert ratios["cold"]["warehouse_median_interval"] == [round(low, 1), round(high, 1)]


def test_interval_sentence_only_for_reports_with_intervals(seed_bench):
    with_intervals = {"warehouse_median_interval": [97.5, 104.25]}
    assert "warm 97.5-104.25x, cold 90-95x" in seed_bench.interval_sentence(
        with_intervals, {"warehouse_median_interval": [90.0, 95.0]})
    assert seed_bench.interval_sentence({"warehouse_median": 100.0}, {"warehouse_median": 90.0}) == ""


@pytest.fixture(scope="module")
def profile_bench():
    return load_bench_script("profile_seed_model.py")


def test_operator_seconds_sums_each_operator_over_the_tree(profile_bench):
    tree = {"children": [{"operator_name": "HASH_JOIN", "operator_timing": 0.5, "children": [
        {"operator_name": "SEQ_SCAN", "operator_timing": 0.25, "children": []},
        {"operator_name": "HASH_JOIN", "operator_timing": 1.0, "children": [
            {"operator_name": "SEQ_SCAN", "operator_timing": 0.125}]},
    ]}]}
    assert profile_bench.operator_seconds(tree, {}) == {"HASH_JOIN": 1.5, "SEQ_SCAN": 0.375}


def test_profile_reports_planner_phases_and_operators_of_the_statement(profile_bench):
    con = duckdb.connect()
    con.execute("create table t as select range % 7 as k, range as v from range(10000)")
    medians = profile_bench.profile(con, "select k, sum(v) as s from t group by k", repeat=3)
    assert {"latency", "planner_binding", "all_optimizers", "physical_planner"} <= set(medians)
    assert {"operator SEQ_SCAN", "operator CREATE_TABLE_AS"} <= set(medians)
    assert any(key.startswith("operator") and key.endswith("GROUP_BY") for key in medians)
    assert all(seconds >= 0 for seconds in medians.values())
    # the statement really ran, as a temporary table, and profiling is off again
    assert con.sql("select count(*), sum(s) from bench_int_seed_reproduction").fetchone() == (7, sum(range(10000)))
    assert con.sql("select current_setting('enable_profiling')").fetchone()[0] in ("", None, "false")


def test_pause_effect_times_the_run_after_each_kind_of_pause(profile_bench, monkeypatch):
    events = []
    monkeypatch.setattr(profile_bench.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    monkeypatch.setattr(profile_bench, "busy_wait", lambda seconds: events.append(("busy", seconds)))
    medians = profile_bench.pause_effect(lambda: events.append(("run", None)), pause=0.5, rounds=2)
    one_round = [("sleep", 0.5), ("run", None), ("busy", 0.5), ("run", None), ("run", None)]
    assert events == one_round * 2
    assert list(medians) == list(profile_bench.PAUSES) and all(seconds >= 0 for seconds in medians.values())


def test_busy_wait_keeps_busy_until_the_clock_passes_the_time_asked(profile_bench, monkeypatch):
    readings = iter(range(100))  # a clock that reads 0, 1, 2, ... seconds, one step per look
    looks = []
    clock = SimpleNamespace(perf_counter=lambda: looks.append(1) or next(readings))
    monkeypatch.setattr(profile_bench, "time", clock)
    profile_bench.busy_wait(5)
    assert len(looks) == 6  # read 0: the deadline is 5; then 1, ..., 4 go on and 5 stops the loop
