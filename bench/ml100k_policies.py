"""Benchmark the feedlab.recsys policies on MovieLens-100K (leave-last-out) and time them on the synthetic world.

Protocol: for every user with >= 2 ratings, the last rating by (timestamp, item_id) is held out; everything else
is training. Each policy ranks all of a user's unseen catalogue items (the training items are excluded) and we
report, with binary relevance of the single held-out item, Hit@10, NDCG@10 = 1/log2(rank+1), Recall@10 (equal to
Hit@10 with one held-out item) and catalogue coverage@10 (distinct recommended items / catalogue items).

Usage:  .venv/bin/python bench/ml100k_policies.py [--data /work/shared/data/ml-100k] [--skip-synthetic]
Writes: bench/results/ml100k_policies.json

Seconds are wall clock (``train_seconds``: fit incl. the ranker's in-training split; ``total_seconds``: + scoring)
and process CPU seconds over all threads (``cpu_seconds``), which is less sensitive to other load on the machine.
TensorFlow is imported once up front and its import time reported separately.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedlab.recsys import (recommend_svd, recommend_two_stage_lgbm, recommend_two_tower,  # noqa: E402
                            recommend_two_tower_mse)

K = 10
Policy = Callable[..., tuple[pd.DataFrame, dict[str, Any]]]


def load_ml100k(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings as interactions (value = rating) and items (topic_id = first genre flag set, length unknown)."""
    ratings = pd.read_csv(data_dir / "u.data", sep="\t", header=None, names=["user_id", "item_id", "value", "ts"])
    interactions = pd.DataFrame({
        "user_id": ratings["user_id"].astype(np.int64),
        "item_id": ratings["item_id"].astype(np.int64),
        "event_at": pd.to_datetime(ratings["ts"], unit="s"),
        "value": ratings["value"].astype(np.float64),
    })
    raw = pd.read_csv(data_dir / "u.item", sep="|", header=None, encoding="latin-1")
    genres = raw.iloc[:, 5:24].to_numpy()
    items = pd.DataFrame({
        "item_id": raw[0].astype(np.int64),
        "topic_id": genres.argmax(axis=1).astype(np.int64),
        "length_s": np.nan,
    })
    return interactions, items


def leave_last_out(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's last interaction by (event_at, item_id); users with < 2 rows stay in training."""
    ordered = interactions.sort_values(["user_id", "event_at", "item_id"], kind="mergesort")
    n = ordered.groupby("user_id")["item_id"].transform("size")
    last = ~ordered["user_id"].duplicated(keep="last") & (n >= 2)
    return ordered[~last].reset_index(drop=True), ordered[last].reset_index(drop=True)


def evaluate(recs: pd.DataFrame, test: pd.DataFrame, n_catalogue: int) -> dict[str, float]:
    """Hit/NDCG/Recall@K of the single held-out item per test user and coverage@K."""
    top = recs[recs["rank"] <= K]
    hits = test[["user_id", "item_id"]].merge(top[["user_id", "item_id", "rank"]], on=["user_id", "item_id"],
                                               how="left")
    rank = hits["rank"].to_numpy(dtype=np.float64)
    hit = np.isfinite(rank)
    ndcg = np.where(hit, 1.0 / np.log2(np.nan_to_num(rank, nan=1.0) + 1.0), 0.0)
    return {
        "hit@10": float(hit.mean()),
        "ndcg@10": float(ndcg.mean()),
        "recall@10": float(hit.mean()),
        "coverage@10": float(top["item_id"].nunique() / n_catalogue),
    }


def policies(seed: int) -> dict[str, tuple[Policy, dict[str, Any]]]:
    """Benchmarked configurations: name -> (function, keyword arguments)."""
    return {
        "svd": (recommend_svd, {"random_state": seed}),
        "svd_value": (recommend_svd, {"random_state": seed, "value": "value"}),
        "two_stage_lgbm": (recommend_two_stage_lgbm, {"random_state": seed}),
        "two_stage_lgbm_lambdarank": (recommend_two_stage_lgbm, {"random_state": seed, "objective": "lambdarank"}),
        "two_stage_lgbm_binary": (recommend_two_stage_lgbm, {"random_state": seed, "objective": "binary"}),
        "two_tower_mse": (recommend_two_tower_mse, {"random_state": seed}),
        "two_tower": (recommend_two_tower, {"random_state": seed}),
    }


def popularity(train: pd.DataFrame, users: np.ndarray) -> pd.DataFrame:
    """Reference: most-interacted unseen items."""
    pop = train.groupby("item_id").size().rename("score").reset_index()
    pop = pop.sort_values(["score", "item_id"], ascending=[False, True]).head(K + 2000)
    seen = set(zip(train["user_id"], train["item_id"]))
    rows = []
    for u in users:
        picked = [(i, s) for i, s in zip(pop["item_id"], pop["score"]) if (u, i) not in seen][:K]
        rows += [(u, i, r + 1, float(s)) for r, (i, s) in enumerate(picked)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rank", "score"])


def run_ml100k(data_dir: Path, seed: int, only: list[str] | None) -> list[dict[str, Any]]:
    interactions, items = load_ml100k(data_dir)
    train, test = leave_last_out(interactions)
    users = np.sort(train["user_id"].unique())
    n_catalogue = train["item_id"].nunique()
    started = time.perf_counter()
    results = [{"policy": "popularity", **evaluate(popularity(train, users), test, n_catalogue),
                "train_seconds": round(time.perf_counter() - started, 3), "total_seconds": None,
                "cpu_seconds": None}]
    for name, (fn, kwargs) in policies(seed).items():
        if only and name not in only:
            continue
        cpu = time.process_time()
        recs, info = fn(train, users, K, items=items, **kwargs)
        results.append({"policy": name, **evaluate(recs, test, n_catalogue),
                        "train_seconds": info["train_seconds"], "total_seconds": info["total_seconds"],
                        "cpu_seconds": round(time.process_time() - cpu, 3), "params": info["params"]})
        print(f"  {name:28s} done in {info['total_seconds']:.2f}s", flush=True)
    return results


def synthetic_world(seed: int, n_users: int = 3000, n_items: int = 1200, n_topics: int = 8,
                    n_rows: int = 180_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stand-in for the 1x synthetic world: Dirichlet topic preferences, watch time = fraction x length."""
    rng = np.random.default_rng(seed)
    prefs = rng.dirichlet(np.full(n_topics, 0.8), size=n_users)
    topic = rng.integers(0, n_topics, size=n_items)
    length = rng.integers(15, 90, size=n_items).astype(np.float64)
    u = rng.integers(0, n_users, size=n_rows)
    i = rng.integers(0, n_items, size=n_rows)
    fraction = np.clip(prefs[u, topic[i]] + rng.normal(0, 0.1, size=n_rows), 0.05, 1.0)
    start = np.datetime64("2025-01-01T00:00:00", "s")
    event_at = start + rng.integers(0, 30 * 86400, size=n_rows).astype("timedelta64[s]")
    train = pd.DataFrame({"user_id": u.astype(np.int64), "item_id": i.astype(np.int64), "event_at": event_at,
                          "value": fraction * length[i], "engagement": fraction})
    items = pd.DataFrame({"item_id": np.arange(n_items, dtype=np.int64), "topic_id": topic, "length_s": length})
    return train, items


def run_synthetic(seed: int, only: list[str] | None) -> list[dict[str, Any]]:
    train, items = synthetic_world(seed)
    users = np.sort(train["user_id"].unique())
    results = []
    for name, (fn, kwargs) in policies(seed).items():
        if only and name not in only:
            continue
        cpu = time.process_time()
        _, info = fn(train, users, K, items=items, **kwargs)
        results.append({"policy": name, "rows": info["rows_trained"], "train_seconds": info["train_seconds"],
                        "total_seconds": info["total_seconds"], "cpu_seconds": round(time.process_time() - cpu, 3)})
    return results


def run_svd_scale(seed: int) -> dict[str, Any]:
    """PureSVD at production scale: 300k users x 120k items x 18M interactions (Zipf-like item popularity)."""
    rng = np.random.default_rng(seed)
    n_users, n_items, n_rows = 300_000, 120_000, 18_000_000
    item_p = 1.0 / np.arange(1, n_items + 1) ** 0.8
    train = pd.DataFrame({
        "user_id": rng.integers(0, n_users, size=n_rows),
        "item_id": rng.choice(n_items, size=n_rows, p=item_p / item_p.sum()),
        "event_at": np.datetime64("2025-01-01", "s") + rng.integers(0, 30 * 86400, size=n_rows).astype("timedelta64[s]"),
        "value": rng.uniform(1.0, 90.0, size=n_rows),
    })
    users = np.unique(train["user_id"].to_numpy())
    recs, info = recommend_svd(train, users, K, random_state=seed)
    return {"policy": "svd", "rows": n_rows, "users": len(users), "recs": len(recs),
            "train_seconds": info["train_seconds"], "total_seconds": info["total_seconds"],
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    print(f"\n{title}")
    print(" | ".join(f"{c:>26s}" if c == "policy" else f"{c:>11s}" for c in columns))
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            if c == "policy":
                cells.append(f"{v:>26s}")
            elif v is None:
                cells.append(f"{'-':>11s}")
            else:
                cells.append(f"{v:11.4f}" if isinstance(v, float) else f"{v:>11}")
        print(" | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/ml-100k"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", nargs="*", help="policy names to run (default: all)")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--svd-scale", action="store_true",
                        help="only time PureSVD on 300k users x 120k items x 18M rows (several minutes, ~10 GiB)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ml100k_policies.json")
    args = parser.parse_args()
    if args.svd_scale:
        print(json.dumps(run_svd_scale(args.seed)))
        return

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    import tensorflow  # noqa: F401  (imported here so that no policy's seconds include it)

    tf_import = round(time.perf_counter() - started, 2)
    print(f"TensorFlow import: {tf_import} s\nMovieLens-100K, leave-last-out", flush=True)
    ml = run_ml100k(args.data, args.seed, args.only)
    print_table("MovieLens-100K (K=10)", ml,
                ["policy", "hit@10", "ndcg@10", "recall@10", "coverage@10", "train_seconds", "total_seconds",
                 "cpu_seconds"])
    synth = []
    if not args.skip_synthetic:
        synth = run_synthetic(args.seed, args.only)
        print_table("Synthetic world 1x (3000 users, 1200 items, 180k rows)", synth,
                    ["policy", "rows", "train_seconds", "total_seconds", "cpu_seconds"])
    if args.only:
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"k": K, "seed": args.seed, "tensorflow_import_seconds": tf_import,
                                          "ml100k": ml, "synthetic_1x": synth}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
