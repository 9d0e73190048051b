"""Bad --vars stop dbt before any node runs, with one line naming the var (macros/check_vars.sql)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from feedlab.build import PROJECT_DIR, build


def run_operation(tmp_path: Path, macro: str, dbt_vars: dict) -> subprocess.CompletedProcess[str]:
    """``dbt run-operation <macro>`` with ``dbt_vars`` against a scratch warehouse; dbt's output in stdout."""
    cmd = [str(Path(sys.executable).with_name("dbt")), "run-operation", macro,
           "--vars", yaml.safe_dump(dbt_vars, default_flow_style=True).strip(),
           "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
           "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    env = {**os.environ, "FEEDLAB_WAREHOUSE": str(tmp_path / "scratch.duckdb")}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize(("dbt_vars", "message"), [
    ({"n_users": 0}, "var 'n_users' must be a whole number >= 2, got 0"),
    ({"n_videos": 1}, "var 'n_videos' must be a whole number >= 2, got 1"),
    ({"n_creators": 0}, "var 'n_creators' must be a whole number >= 1, got 0"),
    ({"top_k": "ten"}, "var 'top_k' must be a whole number >= 1, got \"ten\""),
    ({"top_k": True}, "var 'top_k' must be a whole number >= 1, got true"),
    ({"serve_k": 20, "top_k": 10, "metric_cutoffs": [5, 10]},
     "var 'serve_k' (20) is above var 'top_k' (10): an arm can only serve items of its policy's top_k list"),
    ({"start_date": "20250101"}, "var 'start_date' must be a date as YYYY-MM-DD, got \"20250101\""),
    ({"like_threshold": 1.5}, "var 'like_threshold' must be a number >= 0 and <= 1, got 1.5"),
    ({"like_threshold": float("nan")}, "var 'like_threshold' must be a number >= 0 and <= 1, got NaN"),
    ({"noise_sd": float("inf")}, "var 'noise_sd' must be a number >= 0, got Infinity"),
    ({"start_date": "2025-13-01"}, "var 'start_date' must be a date as YYYY-MM-DD, got \"2025-13-01\""),
    ({"start_date": "2025-02-30"}, "var 'start_date' must be a date as YYYY-MM-DD, got \"2025-02-30\""),
    ({"kuairec_watch_ratio_cap": 0}, "var 'kuairec_watch_ratio_cap' must be a number > 0, got 0"),
    ({"seed_compat": "false"}, "var 'seed_compat' must be true or false, got \"false\""),
    ({"lgbm_objective": "ranking"},
     "var 'lgbm_objective' must be one of auto, lambdarank, binary, regression, got \"ranking\""),
    ({"split_protocol": "global"}, "var 'split_protocol' must be one of leave_last_out, temporal, got \"global\""),
    ({"temporal_test_share": 0}, "var 'temporal_test_share' must be a number > 0 and <= 1, got 0"),
    ({"temporal_test_share": 1}, "var 'temporal_test_share' must be below 1: the split needs training rows"),
    # checked at parse time by the models that loop over them, before any hook
    ({"top_k": 20}, "var 'metric_cutoffs' must hold whole numbers from 1 to var 'top_k' (20), got 50; a list cut at "
                    "top_k scores the same at every larger K, so lower metric_cutoffs with top_k"),
    ({"metric_cutoffs": 5}, "var 'metric_cutoffs' must be a non-empty list of whole numbers, got 5"),
    ({"metric_cutoffs": [5, 5, 10]}, "var 'metric_cutoffs' must not repeat a cutoff, got [5, 5, 10]"),
    ({"python_policies": "svd"}, "var 'python_policies' must be a non-empty list of distinct policy names"),
    ({"python_policies": []}, "var 'python_policies' must be a non-empty list of distinct policy names"),
    ({"python_policies": ["svd", "svd"]}, "var 'python_policies' must be a non-empty list of distinct policy names"),
])
def test_bad_var_is_refused_with_its_name(tmp_path: Path, dbt_vars: dict, message: str) -> None:
    done = run_operation(tmp_path, "check_vars", dbt_vars)
    assert done.returncode != 0
    assert message in done.stdout, done.stdout[-2000:]
    assert "Traceback" not in done.stdout


def test_defaults_and_written_out_values_pass(tmp_path: Path) -> None:
    # numbers may come as YAML strings (as the python models' JSON config accepts them), a date as a YAML date
    # (a leap day)
    done = run_operation(tmp_path, "check_vars", {"top_k": "50", "serve_k": 5, "metric_cutoffs": [5, "10", 50],
                                                   "noise_sd": "0.2", "like_threshold": 0, "follow_threshold": 1,
                                                   "start_date": date(2024, 2, 29)})
    assert done.returncode == 0, done.stdout[-2000:]


def test_the_hook_stops_a_build_before_any_node(tmp_path: Path, capfd) -> None:
    # the build's last line says why (read back from dbt's log: a failed hook leaves no run results)
    with pytest.raises(SystemExit, match=r"failed for data set 'synthetic': var 'serve_k' \(500\) is above var "
                                         r"'top_k' \(100\).*; nothing was published"):
        build("synthetic", {"serve_k": 500}, tmp_path / "warehouse",
              ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")])
    output = capfd.readouterr().out
    assert "var 'serve_k' (500) is above var 'top_k' (100)" in output
    assert "on-run-start" in output and " START " not in output  # no model, seed or test started
