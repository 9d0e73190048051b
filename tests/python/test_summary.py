"""The console summary (feedlab.summary) on the small world: its key lines agree with the marts."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dbt_helpers import copy_warehouse, query, small_bi_warehouse
from feedlab import summary


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_bi_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def text(warehouse: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "feedlab.summary", "--warehouse", str(warehouse)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_header_and_one_line_per_experiment_arm(warehouse: Path, text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == f"feedlab summary: data set synthetic ({warehouse})"
    assert any(line.startswith("Experiments (watch_time_per_video:") for line in lines)
    arms = query(warehouse, "select distinct experiment_id, treatment_arm from fct_ab_results order by 1, 2")
    assert arms
    flags = dict(query(warehouse, "select experiment_id, srm_flag from fct_srm_checks"))
    for experiment, arm in arms:
        matching = [line for line in lines if line.strip().startswith(f"{experiment} / {arm} ")]
        assert len(matching) == 1, (experiment, arm, text)
        assert ("SRM MISMATCH" if flags[experiment] else "SRM ok") in matching[0]
        assert "lift " in matching[0] and "p_holm=" in matching[0]


def test_pop_vs_svd_line_carries_lift_ci_and_p(warehouse: Path, text: str) -> None:
    lift, lo, hi, p_holm, n_c, n_t = query(
        warehouse,
        "select relative_lift, relative_ci_low, relative_ci_high, p_value_holm, n_control, n_treatment "
        "from fct_ab_results where experiment_id = 'pop_vs_svd' and metric = 'watch_time_per_video'",
    )[0]
    line = next(line for line in text.splitlines() if "pop_vs_svd / treatment" in line)
    assert f"{lift * 100:+.1f}% [{lo * 100:+.1f}%, {hi * 100:+.1f}%]" in line
    assert f"p_holm={p_holm:.2g}" in line
    assert f"n={n_c}/{n_t}" in line


def test_best_policies(warehouse: Path, text: str) -> None:
    best_ndcg, ndcg = query(warehouse, "select policy, ndcg from fct_offline_metrics where k = 10 "
                                       "order by ndcg desc, policy limit 1")[0]
    assert f"Best policy by NDCG@10: {best_ndcg} (NDCG@10 {ndcg:.4f}," in text
    best_value, share = query(warehouse, "select policy, share_of_oracle from fct_policy_value "
                                         "where policy <> 'oracle' order by policy_value_s desc, policy limit 1")[0]
    assert f"Best policy by policy value: {best_value} (" in text
    assert f"{share * 100:.1f}% of the oracle)" in text


def test_absent_marts_are_reported_not_fatal(warehouse: Path, tmp_path: Path) -> None:
    partial = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(partial)) as con:
        for mart in ("fct_ab_results", "fct_srm_checks", "fct_policy_value", "fct_offline_metrics"):
            con.execute(f"drop table {mart}")
    out = summary.summarize(partial)
    assert "Experiments: fct_ab_results is not in this warehouse" in out
    assert "Best policy by NDCG@10: fct_offline_metrics is not in this warehouse." in out
    assert "Best policy by policy value: fct_policy_value is not in this warehouse." in out


def test_a_replay_says_its_day_in_the_header(warehouse: Path, tmp_path: Path) -> None:
    replayed = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(replayed)) as con:
        con.execute("update int_interaction_log set loaded_as_of_day = least(event_day, 3)")
        con.execute("update fct_metrics_daily set as_of_day = 3")
    assert summary.summarize(replayed).splitlines()[0] == (
        f"feedlab summary: data set synthetic, day-by-day replay through as_of_day 3: every figure is that day's "
        f"({replayed})")
    # a day without new interactions loads no log row, but it is the replay's day all the same
    with duckdb.connect(str(replayed)) as con:
        con.execute("insert into fct_metrics_daily select * replace (4 as as_of_day) from fct_metrics_daily")
    assert "day-by-day replay through as_of_day 4:" in summary.summarize(replayed).splitlines()[0]


def test_srm_absent_and_metric_option(warehouse: Path, tmp_path: Path) -> None:
    partial = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(partial)) as con:
        con.execute("drop table fct_srm_checks")
    out = summary.summarize(partial, metric="completion_rate")
    assert "Experiments (completion_rate:" in out
    assert "SRM n/a" in out
