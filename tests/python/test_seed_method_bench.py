"""Fast checks of bench/seed_method.py's seed-side formulas and timing protocol. No timing assertions."""
from __future__ import annotations

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
