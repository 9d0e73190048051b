"""Fast checks of bench/spark_replay.py's helpers (counts, comparison, the Markdown); no Spark, no dbt."""
from __future__ import annotations

import pytest

from dbt_helpers import load_bench_script

COLUMNS = {"int_interaction_log": ["interaction_id", "event_day"], "fct_metrics_daily": ["as_of_day", "value"]}
LOG = [(10, 1), (11, 1), (12, 2)]
HISTORY = [(1, 0.5), (1, 0.25), (2, 0.5), (2, 0.75)]


@pytest.fixture(scope="module")
def replay_bench():
    return load_bench_script("spark_replay.py")


def test_counts_of_the_log_and_of_the_history_per_day(replay_bench) -> None:
    counts = replay_bench.log_and_history_counts({"int_interaction_log": LOG + [(12, 2)],
                                                  "fct_metrics_daily": HISTORY}, COLUMNS)
    assert counts == {"log_rows": 4, "log_distinct_ids": 3, "log_max_event_day": 2,
                      "history_rows_per_day": {"1": 2, "2": 2}}


def test_compare_engines_ignores_row_order_and_names_the_differing_table(replay_bench) -> None:
    duck = {"int_interaction_log": LOG, "fct_metrics_daily": HISTORY}
    assert replay_bench.compare_engines(duck, {"int_interaction_log": LOG[::-1],
                                               "fct_metrics_daily": HISTORY[::-1]}) == {
        "int_interaction_log": [], "fct_metrics_daily": []}
    differences = replay_bench.compare_engines(duck, {"int_interaction_log": LOG[:2], "fct_metrics_daily": HISTORY})
    assert differences["int_interaction_log"] == ["row counts differ: 3 vs 2"]
    assert differences["fct_metrics_daily"] == []


def day_entry(replay_bench, day: int, equal: bool) -> dict:
    counts = replay_bench.log_and_history_counts({"int_interaction_log": LOG, "fct_metrics_daily": HISTORY}, COLUMNS)
    return {"spark": {"day": day, "returncode": 0, "seconds": 90.0, "dbt_summary": []},
            "duckdb_counts": counts, "spark_counts": counts,
            "differences": {"int_interaction_log": [] if equal else ["row 0 column 1: 1 vs 2"],
                            "fct_metrics_daily": []}}


def test_markdown_reports_each_day_and_the_three_reruns(replay_bench) -> None:
    report = {
        "day_numbers": [1, 2], "started": "2026-11-24 21:50:00", "load_average_at_start": [0.5, 0.5, 0.5],
        "days": [day_entry(replay_bench, 1, True), day_entry(replay_bench, 2, False)],
        "same_day_again": {"spark": {"day": 2, "returncode": 0}, "changed": []},
        "earlier_day": {"spark": {"day": 1, "returncode": 1, "dbt_summary": ["... Days only move forward; ..."]},
                        "refused": True, "changed": []},
        "other_world": {"spark": {"day": 2, "returncode": 0, "dbt_summary": ["Done. PASS=3"]},
                        "refused": False, "changed": ["fct_metrics_daily"]},
        "failures": ["day 2: int_interaction_log differs"], "ok": False,
    }
    text = replay_bench.markdown(report)
    assert "`.venv/bin/python bench/spark_replay.py --days 1 2`" in text
    assert "| 1 | 90.0 | 3 / 3 | 3 | 2 | {\"1\": 2, \"2\": 2} | yes | yes |" in text
    assert "| 2 | 90.0 | 3 / 3 | 3 | 2 | {\"1\": 2, \"2\": 2} | **no** (1 differences) | yes |" in text
    assert "Day 2 run again on Spark: return code 0; both tables the same as after its first run." in text
    assert "Day 1 after it on Spark: return code 1, refused; both tables unchanged." in text
    assert "... Days only move forward; ..." in text
    assert ('Day 2 with {"noise_sd": 0.2} on Spark: return code 0, **not refused**; **changed**: fct_metrics_daily.'
            in text)
    assert text.rstrip().endswith("**Failed:** day 2: int_interaction_log differs")
