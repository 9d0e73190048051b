"""Where a policy's build time goes: the library steps of a python policy model, timed outside dbt.

Usage: python bench/profile_policy.py --warehouse bench/.work/synthetic_10x/warehouse/synthetic.duckdb
                                      [--policy svd|two_stage_lgbm|two_tower|two_tower_mse] [--cprofile] [--users N]

Reads int_split (training rows and columns, as the model does) and stg_items from a built warehouse, then runs the same library
functions as the dbt model (feedlab.policy_io.training_inputs, then feedlab.recsys), timing each step with
time.perf_counter; ``--cprofile`` adds the 25 most expensive functions by cumulative time. ``--users N`` scores
only the first N users (to extrapolate per-user scoring cost on big worlds). Also times the write-back of the
result frame into DuckDB, which dbt-duckdb does after the model returns (the frame is materialised as a table).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

from feedlab.policy_io import (PYTHON_POLICIES, lgbm_label_for, svd_value_for, train_split, training_inputs,
                               with_run_info)
from feedlab.recsys import recommend_two_stage_lgbm, recommend_two_tower, recommend_two_tower_mse
from feedlab.recsys.common import all_cores, encode, interaction_matrix, recs_frame, top_k_unseen, user_codes
from feedlab.recsys.svd import fit_svd


def rss_gib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 2**20, 2)
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--policy", default="svd", choices=PYTHON_POLICIES)
    parser.add_argument("--users", type=int, default=0, help="score only the first N users (0 = all)")
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 3)
        mark = now

    profiler = cProfile.Profile() if args.cprofile else None
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        split = train_split(con.table("int_split"))
        items = con.sql("select * from stg_items").df()
    step("read int_split (policy_io.train_split, as the model does) + stg_items")
    if profiler:
        profiler.enable()
    train, item_features, users = training_inputs(split, items)
    if args.users:
        users = users.iloc[: args.users]
    step("policy_io.training_inputs")
    if args.policy == "svd":
        enc = encode(train)
        rows = user_codes(enc, users)
        step("recsys.common.encode + user_codes")
        matrix = interaction_matrix(enc, svd_value_for("synthetic", "auto"))
        step("recsys.common.interaction_matrix")
        model = fit_svd(matrix, 30, 42)
        step("recsys.svd.fit_svd (ARPACK)")
        row, col, score = top_k_unseen(model.score, matrix, rows, args.top_k, n_jobs=all_cores())
        step(f"recsys.common.top_k_unseen (score + mask + top_k_rows, {all_cores()} threads)")
        recs = recs_frame("svd", enc, row, col, score)
        step("recsys.common.recs_frame")
        info = {"rows_trained": int(enc.n_rows), "total_seconds": 0.0, "params": {}}
    elif args.policy == "two_stage_lgbm":
        recs, info = recommend_two_stage_lgbm(train, users, args.top_k, items=item_features,
                                              label=lgbm_label_for("synthetic", "auto"))
        step("recsys.ranker.recommend_two_stage_lgbm (all)")
    else:
        recommend = recommend_two_tower if args.policy == "two_tower" else recommend_two_tower_mse
        recs, info = recommend(train, users, args.top_k, items=item_features)
        step(f"recsys.two_tower.recommend_{args.policy} (all)")
    if profiler:
        profiler.disable()
    try:
        recs = with_run_info(recs, info, "synthetic")
    except Exception as exc:  # the info dict shape may differ from run_info's; the write-back is timed regardless
        print(f"with_run_info skipped: {exc}", file=sys.stderr)
    step("policy_io.with_run_info")
    with duckdb.connect() as out:
        out.register("recs_df", recs)
        out.execute("create table recs as select * from recs_df")
    step("write-back: pandas frame -> DuckDB table")
    report = {"policy": args.policy, "warehouse": str(args.warehouse), "n_users_scored": int(len(users)),
              "n_items": int(len(items)), "train_rows": int(len(train)), "rec_rows": int(len(recs)),
              "steps_seconds": steps, "total_seconds": round(sum(steps.values()), 2), "peak_rss_gib": rss_gib(),
              "policy_train_seconds": info.get("train_seconds"), "policy_score_seconds": info.get("score_seconds")}
    print(json.dumps(report, indent=1))
    if profiler:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(25)
        print(buffer.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
