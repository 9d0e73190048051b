"""Fast checks of bench/spark_bench.py's helpers (run_results parsing, stages, the Markdown table); no Spark."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbt_helpers import load_bench_script


@pytest.fixture(scope="module")
def spark_bench():
    return load_bench_script("spark_bench.py")


def test_node_seconds_keeps_models_seeds_and_tests(spark_bench, tmp_path: Path) -> None:
    results = [
        {"unique_id": "model.feedlab.fct_fairness", "execution_time": 2.5},
        {"unique_id": "seed.feedlab.experiments", "execution_time": 0.5},
        {"unique_id": "test.feedlab.not_null_fct_fairness_policy.abc", "execution_time": 0.25},
        {"unique_id": "unit_test.feedlab.fct_fairness.hand_computed", "execution_time": 1.0},
        {"unique_id": "exposure.feedlab.bi_dashboard", "execution_time": 0.0},
    ]
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": results}))
    assert spark_bench.node_seconds(path) == {r["unique_id"]: r["execution_time"] for r in results[:4]}
    assert spark_bench.node_seconds(tmp_path / "missing.json") == {}


@pytest.mark.parametrize(
    ("unique_id", "stage"),
    [
        ("model.feedlab.fct_fairness", "fairness"),
        ("model.feedlab.rec_popularity", "rec_popularity"),
        ("seed.feedlab.experiments", "experiments"),
        ("test.feedlab.not_null_fct_fairness_policy.abc", "tests"),
        ("unit_test.feedlab.fct_fairness.hand_computed", "tests"),
    ],
)
def test_stage_of_node(spark_bench, unique_id: str, stage: str) -> None:
    assert spark_bench.stage_of_node(unique_id) == stage


def test_node_name_drops_package_and_hash(spark_bench) -> None:
    assert spark_bench.node_name("test.feedlab.not_null_fct_fairness_policy.abc123") == "not_null_fct_fairness_policy"
    assert spark_bench.node_name("unit_test.feedlab.fct_fairness.hand_computed") == "hand_computed"
    assert spark_bench.node_name("model.feedlab.fct_fairness") == "fct_fairness"


def test_markdown_has_a_row_per_scale_and_the_shared_stages(spark_bench) -> None:
    duck = {"status": "ok", "wall_seconds": 30.0, "peak_rss_gib": 1.0, "load_average_before": [1.5, 1.0, 1.0]}
    build = {
        "name": "synthetic 1×", "duckdb": duck, "export": {"seconds": 0.5},
        "spark": {"status": "ok", "wall_seconds": 120.0, "peak_rss_gib": 2.0, "load_average_before": [2.5, 1.0, 1.0]},
        "parity": {"fct_fairness": [], "fct_srm_checks": ["row counts differ: 6 vs 5"]},
        "shared_nodes": {"nodes": 2, "duckdb_seconds": 3.0, "spark_seconds": 40.0,
                         "stages": {"fairness": {"nodes": 1, "duckdb_seconds": 1.0, "spark_seconds": 10.0},
                                    "tests": {"nodes": 1, "duckdb_seconds": 2.0, "spark_seconds": 30.0}},
                         "slowest_on_spark": [{"node": "model.feedlab.fct_fairness", "spark_seconds": 10.0,
                                               "duckdb_seconds": 1.0}]},
    }
    failed = {"name": "synthetic 10×", "duckdb": {**duck, "status": "failed (exit 1)"}}
    report = {"started": "now", "machine": {"cores": 2, "memory_gib": 23.5, "python": "3.11", "platform": "linux",
                                            "java": "openjdk 17", "load_average_at_start": [0.1, 0.1, 0.1]},
              "builds": [build, failed]}
    text = spark_bench.markdown(report)
    assert ("| synthetic 1× | 30.0 | 1.00 | 0.5 | 120.0 | 2.00 | 2 | 3.0 | 40.0 | 1.5 / 2.5 | "
            "1 of 2 (differ: fct_srm_checks) |") in text
    assert "| synthetic 10× | failed (exit 1) | | | | | | | | | |" in text
    assert spark_bench.parity_cell({"fct_fairness": [], "fct_srm_checks": []}) == "2 of 2"
    assert spark_bench.parity_cell(None) == "–"
    assert "Vars added" not in text
    with_vars = spark_bench.markdown({**report, "vars": {"split_protocol": "temporal"}})
    assert 'Vars added to every world\'s: `{"split_protocol": "temporal"}`' in with_vars
    assert "| fairness | 1.0 / 10.0 |" in text and "| tests | 2.0 / 30.0 |" in text
    assert "fct_fairness 10.0 / 1.0" in text
