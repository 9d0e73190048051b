"""`make bench`: wall time and peak memory of the warehouse builds, per stage, plus the offline metrics they reach.

Usage: python bench/run.py [--scales 1 10 100] [--movielens PATH] [--out bench/results]
Each build goes through feedlab.build into a scratch warehouse folder; per-stage times come from dbt's
run_results.json; peak memory is the peak RSS of the dbt process (getrusage of children, one child per build).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCALES = {
    1: {},
    10: {"n_users": 30_000, "n_videos": 12_000, "n_creators": 3_000, "n_interactions": 1_800_000},
    100: {"n_users": 300_000, "n_videos": 120_000, "n_creators": 30_000, "n_interactions": 18_000_000},
}
STAGES = (
    ("generation", ("sim_",)),
    ("loading", ("ml_", "kr_")),
    ("staging", ("stg_",)),
    ("intermediate", ("int_engagement", "int_split", "int_item_popularity", "int_user_history")),
    ("policy", ("rec_",)),
    ("evaluation", ("fct_recommendations", "fct_offline", "int_policy_pair", "fct_policy_comparisons", "fct_model_runs")),
    ("experiments", ("dim_", "fct_exposures", "fct_outcomes", "fct_ab_", "int_ab_", "int_srm", "fct_srm", "fct_seed", "experiments")),
    ("fairness", ("fct_creator_exposure", "fct_fairness", "fct_lorenz", "fct_policy_value")),
)


def stage_of(node_name: str) -> str:
    """The benchmark stage a dbt node belongs to (policies are reported one by one)."""
    for stage, prefixes in STAGES:
        if node_name.startswith(prefixes):
            return node_name if stage == "policy" else stage
    return "other"


def run_build(dataset: str, dbt_vars: dict, workdir: Path) -> dict:
    """Build one warehouse in a child process; return wall seconds, peak RSS and per-stage seconds."""
    target = workdir / "target"
    cmd = [
        sys.executable, "-m", "feedlab.build", "--dataset", dataset, "--vars", json.dumps(dbt_vars),
        "--warehouse-dir", str(workdir / "warehouse"), "--", "--target-path", str(target),
        "--log-path", str(workdir / "logs"),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run(cmd, cwd=PROJECT_DIR, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-5000:] + completed.stderr[-5000:])
        raise SystemExit(f"bench: build of {dataset} {dbt_vars} failed")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stages: dict[str, float] = {}
    for result in json.loads((target / "run_results.json").read_text())["results"]:
        name = result["unique_id"].split(".")[-1] if result["unique_id"].startswith(("model.", "seed.")) else "tests"
        key = "tests" if name == "tests" else stage_of(name)
        stages[key] = stages.get(key, 0.0) + result["execution_time"]
    return {
        "dataset": dataset,
        "vars": dbt_vars,
        "wall_seconds": round(wall, 2),
        # ru_maxrss of children is the largest child so far; a smaller later build cannot lower it.
        "peak_rss_gib_upper_bound": round(max(before, peak_kib) / 2**20, 2),
        "stage_seconds": {k: round(v, 2) for k, v in sorted(stages.items())},
        "warehouse": str(workdir / "warehouse" / f"{dataset}.duckdb"),
    }


def offline_metrics(warehouse: str, k: int = 10) -> list[dict]:
    """fct_offline_metrics at cut-off k, one dict per policy."""
    with duckdb.connect(warehouse, read_only=True) as con:
        frame = con.sql(
            f"select policy, hit_rate, ndcg, recall, coverage from fct_offline_metrics where k = {k} order by ndcg desc"
        ).df()
    return frame.round(4).to_dict("records")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="*", default=[1], choices=sorted(SCALES))
    parser.add_argument("--movielens", type=Path, default=PROJECT_DIR.parent / "shared" / "data" / "ml-100k")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / ".work")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"machine": {"cores": os.cpu_count(), "python": platform.python_version()}, "builds": []}
    for scale in args.scales:
        result = run_build("synthetic", SCALES[scale], args.workdir / f"synthetic_{scale}x")
        result["scale"] = scale
        report["builds"].append(result)
        print(json.dumps(result, indent=1), flush=True)
    if (args.movielens / "u.data").exists():
        result = run_build("movielens", {"movielens_path": str(args.movielens)}, args.workdir / "movielens")
        result["offline_metrics_at_10"] = offline_metrics(result["warehouse"])
        report["builds"].append(result)
        print(json.dumps(result, indent=1), flush=True)
    out_file = args.out / "bench.json"
    out_file.write_text(json.dumps(report, indent=1) + "\n")
    print(f"bench: wrote {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
