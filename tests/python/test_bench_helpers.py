"""Fast checks of bench/run.py's helpers (stage mapping, dbt log parsing, process-tree RSS). No timing assertions."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from dbt_helpers import load_bench_script


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("run.py")


@pytest.mark.parametrize(
    ("name", "kind", "stage"),
    [
        ("sim_interactions", "model", "generation"),
        ("stg_interactions", "model", "staging"),
        ("int_split", "model", "intermediate"),
        ("rec_svd", "model", "rec_svd"),
        ("fct_recommendations", "model", "evaluation"),
        ("int_seed_reproduction", "model", "experiments"),
        ("fct_fairness", "model", "fairness"),
        ("not_null_fct_fairness_policy", "test", "tests"),
        ("something_new", "model", "other"),
    ],
)
def test_stage_of(bench, name, kind, stage):
    assert bench.stage_of(name, kind) == stage


def test_stage_sort_key_puts_policies_between_intermediate_and_evaluation(bench):
    ordered = sorted(["evaluation", "rec_svd", "generation", "intermediate", "tests"], key=bench.stage_sort_key)
    assert ordered == ["generation", "intermediate", "rec_svd", "evaluation", "tests"]


def test_log_regexes_read_dbt_console_lines(bench):
    start = "06:31:23  12 of 261 START python table model main.rec_svd ...... [RUN]"
    done = "06:31:24  12 of 261 OK created python table model main.rec_svd ..... [OK in 3.21s]"
    test = "06:31:24  6 of 261 PASS not_null_sim_creators_creator_id ........ [PASS in 0.03s]"
    colored = bench.ANSI_RE.sub("", "12 of 261 OK created sql view model main.stg_x ... [\x1b[32mOK\x1b[0m in 0.52s]")
    assert bench.START_RE.search(start).group(1) == "rec_svd"
    assert bench.parse_done(done) == ("model", "rec_svd", 3.21, "OK")
    assert bench.parse_done(colored) == ("model", "stg_x", 0.52, "OK")
    assert bench.parse_done(test) == ("test", "not_null_sim_creators_creator_id", 0.03, "PASS")
    assert bench.parse_done(start) is None


def test_process_tree_and_rss_include_children(bench):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        deadline = time.time() + 5
        while child.pid not in bench.process_tree(os.getpid()) and time.time() < deadline:
            time.sleep(0.05)
        assert child.pid in bench.process_tree(os.getpid())
        assert bench.tree_rss_kib(os.getpid()) > bench.vm_rss_kib(os.getpid()) > 0
    finally:
        child.kill()
        child.wait()
    assert bench.vm_rss_kib(child.pid) == 0


def test_markdown_renders_every_build(bench):
    report = {
        "started": "2026-01-01 00:00:00",
        "machine": {"cores": 2, "memory_gib": 24, "python": "3.11", "platform": "linux",
                    "load_average_at_start": [1.0, 1.0, 1.0]},
        "builds": [{"name": "synthetic 1×", "status": "ok", "wall_seconds": 50.0, "dbt_elapsed_seconds": 40.0,
                    "peak_rss_gib": 1.2, "load_average_before": [1.0], "load_average_after": [2.0],
                    "stages": {"generation": {"seconds": 1.0, "nodes": 4, "peak_rss_gib": 0.3}}}],
    }
    text = bench.markdown(report)
    assert "| synthetic 1× | ok | 50.0 |" in text
    assert "| generation | 1.0 s / 0.30 |" in text
