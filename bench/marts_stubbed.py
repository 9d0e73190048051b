"""Time the SQL policies and every mart downstream of fct_recommendations on a big world whose build was stopped.

Usage: python bench/marts_stubbed.py --scale 100 [--timeout 1500]

A bench-only measurement, not a build: it reuses the scratch warehouse that bench/run.py left behind when it stopped
a build at its timeout (bench/.work/synthetic_<scale>x/warehouse/.building/synthetic.duckdb, which already holds
the sources, staging, intermediate tables and the python policies that finished). Python policies that did not
finish are replaced by EMPTY tables with rec_svd's columns (so fct_recommendations has fewer rows than a real build:
a lower bound on the marts' cost), then ``dbt run`` (models only, no tests) builds the four SQL policies and
everything downstream of fct_recommendations. Per-node seconds and the process-tree RSS peak per stage come from
bench/run.py's monitor. Results: bench/results/marts_stubbed_<scale>x.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402

PYTHON_POLICIES = ("rec_svd", "rec_two_stage_lgbm", "rec_two_tower_mse", "rec_two_tower")
SQL_POLICIES = ("rec_random", "rec_popularity", "rec_popularity_engagement", "rec_popularity_mean_watch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, choices=sorted(bench_run.SCALES))
    parser.add_argument("--timeout", type=float, default=1500)
    parser.add_argument("--out", type=Path, default=bench_run.PROJECT_DIR / "bench" / "results")
    parser.add_argument("--select", nargs="*", default=None,
                        help="dbt selectors (default: the SQL policies and fct_recommendations, each with '+')")
    parser.add_argument("--tag", default="", help="suffix of the results file, for a second pass")
    args = parser.parse_args()
    workdir = bench_run.PROJECT_DIR / "bench" / ".work" / f"synthetic_{args.scale}x"
    scratch = workdir / "warehouse" / ".building" / "synthetic.duckdb"
    if not scratch.exists():
        raise SystemExit(f"no stopped build to continue: {scratch} is missing (run bench/run.py --timeout first)")
    with duckdb.connect(str(scratch)) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if "rec_svd" not in tables:
            raise SystemExit("rec_svd did not finish in the stopped build; nothing to stub from")
        stubbed = [p for p in PYTHON_POLICIES if p not in tables]
        for policy in stubbed:
            con.execute(f"create table {policy} as select * from rec_svd limit 0")
    dbt_vars = {**bench_run.SCALES[args.scale], "dataset": "synthetic"}
    selectors = args.select or [f"{m}+" for m in SQL_POLICIES] + ["fct_recommendations+"]
    cmd = [str(Path(sys.executable).with_name("dbt")), "run", "--vars", json.dumps(dbt_vars),
           "--select", *selectors, "--exclude", *PYTHON_POLICIES,
           "--project-dir", str(bench_run.PROJECT_DIR), "--profiles-dir", str(bench_run.PROJECT_DIR),
           "--target-path", str(workdir / "target_marts"), "--log-path", str(workdir / "logs_marts")]
    load_before = bench_run.load_average()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=bench_run.PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True, env={**os.environ, "FEEDLAB_WAREHOUSE": str(scratch)})
    monitor = bench_run.BuildMonitor(proc, workdir / "console_marts.log")
    status = "ok"
    try:
        proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        status = f"stopped after {args.timeout:.0f} s timeout"
        bench_run.kill_tree(proc)
    wall = time.perf_counter() - started
    monitor.stop()
    if status == "ok" and proc.returncode != 0:
        status = f"failed (exit {proc.returncode})"
    nodes = {k: {"seconds": round(v[1], 2), "status": v[2]} for k, v in monitor.done.items()}
    stages: dict[str, dict] = {}
    for key, node in nodes.items():
        kind, name = key.split(":", 1)
        stage = stages.setdefault(bench_run.stage_of(name, kind), {"seconds": 0.0, "nodes": 0, "peak_rss_gib": 0.0})
        stage["seconds"] = round(stage["seconds"] + node["seconds"], 2)
        stage["nodes"] += 1
    for node, kib in monitor.peak_by_node.items():
        kind, _, name = node.partition(":")
        if name:
            stage = stages.setdefault(bench_run.stage_of(name, kind), {"seconds": 0.0, "nodes": 0, "peak_rss_gib": 0.0})
            stage["peak_rss_gib"] = max(stage["peak_rss_gib"], round(kib / 2**20, 2))
    result = {"scale": args.scale, "selectors": selectors, "status": status, "stubbed_empty_policies": stubbed, "wall_seconds": round(wall, 1),
              "peak_rss_gib": round(monitor.peak_kib / 2**20, 2), "load_average_before": load_before,
              "load_average_after": bench_run.load_average(), "stages": stages, "nodes": nodes,
              "running_when_stopped": monitor.current if status != "ok" else None}
    out = args.out / f"marts_stubbed_{args.scale}x{args.tag}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
