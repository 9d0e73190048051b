"""How much the per-user leave-last-out split flatters the python policies: each policy trained once on every
training row (as built) vs retrained on what was known at its users' test events (time-aware).

Usage: python bench/leakage_retrain.py --warehouse warehouse/movielens.duckdb [--policies svd two_stage_lgbm]
                                       [--slice-users 1] [--k 10] [--out bench/results] [--name NAME]

Under leave-last-out (``int_split``) every model trains on every user's rows but the last, so for a user whose test
event is early, the model has seen other users' rows dated after it. ``bench/leakage.py`` measures this for the
popularity policy's item counts alone; this script measures it for whole models, by retraining them:

* ``as built``: the policy's function (``feedlab.recsys.recommend_<policy>``) with the parameters the build recorded
  in ``fct_model_runs``, trained on every training row. Its Hit@K and NDCG@K must equal the mart's
  (``fct_offline_metrics``), which checks that this script reproduces the warehouse's model and evaluation.
* ``time-aware``: the evaluated users sorted by test time and cut into slices of ``slice_users``; for each slice,
  the policy is trained on the training rows dated strictly before the slice's first test event plus the slice's
  users' own training rows (all before their own test events), and ranks for the slice's users. With the default
  of one user per slice that is exactly what was known at the user's test event (one fit per user); larger slices
  make fewer fits and leave a bounded error, reported: rows of slice-mates dated after a user's test event (a leak
  left in), and rows of other users dated between the slice's start and the user's test event (known then, left
  out).
* ``popularity`` (count popularity, ties by item id, as ``int_item_popularity``) goes through the same slices, and
  is set beside ``bench/leakage.py``'s exact per-user figure: equal with one user per slice (a check of the
  retraining), the slicing's own error with more.

Users are evaluated as in ``fct_offline_user_metrics``: those whose test item is not one of their training items;
Hit@K and NDCG@K of that one item (a user the policy gives no list scores 0). Leave-last-out splits only.
Results: <out>/<name>.json and .md (default name leakage_retrain_<dataset>).
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import leakage  # noqa: E402  (bench/leakage.py)
from run import PROJECT_DIR, load_average, write_results  # noqa: E402

from feedlab import recsys  # noqa: E402
from feedlab.policy_io import servable_restriction, training_inputs  # noqa: E402

#: Agreement required between the script's "as built" figures and fct_offline_metrics (the mart rounds to 1e-12).
AGREEMENT_TOL = 1e-9

Recommend = Callable[..., tuple[pd.DataFrame, dict[str, Any]]]


def evaluated_users(split: pd.DataFrame) -> pd.DataFrame:
    """The users fct_offline_user_metrics scores under leave-last-out: shape (n_evaluated, 3), ``user_id``,
    ``test_item_id``, ``test_at``, sorted by (test_at, user_id); a user whose test item is a training item is left
    out."""
    train = split.loc[split["split"] == "train", ["user_id", "item_id"]].drop_duplicates()
    test = split.loc[split["split"] == "test", ["user_id", "item_id", "event_at"]]
    test = test.merge(train, on=["user_id", "item_id"], how="left", indicator=True)
    test = test.loc[test["_merge"] == "left_only"]
    out = pd.DataFrame({"user_id": test["user_id"].astype("int64"), "test_item_id": test["item_id"].astype("int64"),
                        "test_at": pd.to_datetime(test["event_at"])})
    return out.sort_values(["test_at", "user_id"], kind="stable").reset_index(drop=True)


def slices(evaluated: pd.DataFrame, slice_users: int) -> list[pd.DataFrame]:
    """``evaluated`` (sorted by test time) cut into consecutive slices of at most ``slice_users`` rows."""
    return [evaluated.iloc[start:start + slice_users] for start in range(0, len(evaluated), slice_users)]


def slice_history(train: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """The training rows a time-aware model of the slice ``users`` sees: rows dated strictly before the slice's
    first test event, plus the slice's users' own rows (leave-last-out puts them all before their test events)."""
    start = users["test_at"].min()
    keep = (train["event_at"] < start) | train["user_id"].isin(users["user_id"])
    return train.loc[keep].reset_index(drop=True)


def slice_exposure(train: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Per user of the slice, shape (len(users), 4): ``user_id``; ``rows_after_test_as_built``, training rows
    (every user's) dated after the user's test event, which the as-built model sees; ``rows_after_test_in_slice``,
    those the slice's model still sees (slice-mates' rows); ``rows_known_left_out``, other users' rows dated from the
    slice's start to just before the user's test event, which a live system had and the slice's model has not."""
    start = users["test_at"].to_numpy().min()
    mates = train["user_id"].isin(users["user_id"])
    times = np.sort(train["event_at"].to_numpy())
    mate_times = np.sort(train.loc[mates, "event_at"].to_numpy())
    other_times = np.sort(train.loc[~mates, "event_at"].to_numpy())
    test_at = users["test_at"].to_numpy()
    return pd.DataFrame({
        "user_id": users["user_id"].to_numpy(),
        "rows_after_test_as_built": len(times) - np.searchsorted(times, test_at, side="right"),
        "rows_after_test_in_slice": len(mate_times) - np.searchsorted(mate_times, test_at, side="right"),
        "rows_known_left_out": (np.searchsorted(other_times, test_at, side="left")
                                - np.searchsorted(other_times, start, side="left")),
    })


def hit_and_ndcg(recs: pd.DataFrame, evaluated: pd.DataFrame, k: int) -> dict[str, float]:
    """Hit@k and NDCG@k of each evaluated user's test item in ``recs`` (``user_id``, ``item_id``, ``rank``), averaged
    over ``evaluated`` (a user without a list, or whose item ranks below k, scores 0)."""
    top = recs.loc[recs["rank"] <= k, ["user_id", "item_id", "rank"]]
    found = evaluated.merge(top, left_on=["user_id", "test_item_id"], right_on=["user_id", "item_id"], how="left")
    rank = found["rank"].to_numpy(dtype=np.float64)
    hit = ~np.isnan(rank)
    return {"n_users": len(evaluated), "hit_rate": float(hit.mean()),
            "ndcg": float(np.where(hit, 1.0 / np.log2(np.where(hit, rank, 1.0) + 1.0), 0.0).mean())}


def recommend_popularity(train: pd.DataFrame, users: Any, k: int = 10, *, items: pd.DataFrame | None = None,
                         servable: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Count popularity as ``int_item_popularity`` ranks it (training rows per item, ties by item id), each user's
    top ``k`` servable items outside their training items; the call shape of ``feedlab.recsys``."""
    counts = train.groupby("item_id").size()
    catalogue = counts.index.to_numpy(dtype=np.int64)
    if servable is not None:
        catalogue = np.intersect1d(catalogue, np.asarray(servable, dtype=np.int64))
    order = pd.DataFrame({"item_id": catalogue, "n": counts.reindex(catalogue).to_numpy()})
    order = order.sort_values(["n", "item_id"], ascending=[False, True], kind="stable")["item_id"].to_numpy()
    seen = train.groupby("user_id")["item_id"].agg(set)
    rows = []
    for user in np.asarray(users, dtype=np.int64):
        own = seen.get(user, set())
        picked = [item for item in order[:k + len(own)] if item not in own][:k]
        rows += [(int(user), int(item), rank) for rank, item in enumerate(picked, start=1)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rank"]), {}


def policy_call(con: duckdb.DuckDBPyConnection, policy: str) -> tuple[Recommend, int, dict[str, Any]]:
    """The policy's function, its k and the keyword parameters the build recorded (fct_model_runs.parameters,
    restricted to the ones the function takes)."""
    if policy == "popularity":
        k = con.execute("select max(rank) from fct_recommendations where policy = 'popularity'").fetchone()[0]
        return recommend_popularity, int(k), {}
    recommend = getattr(recsys, f"recommend_{policy}", None)
    row = con.execute("select parameters from fct_model_runs where policy = ?", [policy]).fetchone()
    if recommend is None or row is None:
        raise SystemExit(f"leakage_retrain: no python policy {policy!r} in feedlab.recsys and fct_model_runs")
    recorded = json.loads(row[0])
    accepted = inspect.signature(recommend).parameters
    params = {name: value for name, value in recorded.items() if name in accepted and name != "k"}
    return recommend, int(recorded["k"]), params


def policy_leak(recommend: Recommend, k_list: int, params: dict[str, Any], train: pd.DataFrame,
                items: pd.DataFrame, servable: Any, evaluated: pd.DataFrame, user_slices: list[pd.DataFrame],
                k: int) -> dict[str, Any]:
    """The policy as built and time-aware (module docstring): metrics, fits and seconds."""
    started = time.perf_counter()
    built, _ = recommend(train, evaluated["user_id"].to_numpy(), k_list, items=items, servable=servable, **params)
    built_seconds = time.perf_counter() - started
    parts = []
    started = time.perf_counter()
    for users in user_slices:
        recs, _ = recommend(slice_history(train, users), users["user_id"].to_numpy(), k_list, items=items,
                            servable=servable, **params)
        parts.append(recs)
    aware_seconds = time.perf_counter() - started
    return {"as built": hit_and_ndcg(built, evaluated, k) | {"seconds": round(built_seconds, 1)},
            "time-aware": hit_and_ndcg(pd.concat(parts), evaluated, k)
            | {"fits": len(user_slices), "seconds": round(aware_seconds, 1)}}


def check_as_built(policy: str, figures: dict[str, float], mart: tuple | None) -> None:
    """Stop unless the script's as-built figures equal fct_offline_metrics' row (n_users, hit_rate, ndcg)."""
    if mart is None or figures["n_users"] != mart[0] or not all(
            math.isclose(figures[name], value, rel_tol=0, abs_tol=AGREEMENT_TOL)
            for name, value in (("hit_rate", mart[1]), ("ndcg", mart[2]))):
        raise SystemExit(f"leakage_retrain: {policy} as built {figures} differs from fct_offline_metrics {mart}")


def markdown(report: dict) -> str:
    """leakage_retrain_<dataset>.md: one row per policy, then what the slices leave in and out."""
    k, exposure = report["k"], report["exposure"]
    lines = [
        f"# Policies trained once vs retrained on what was known at each test event ({report['dataset']})", "",
        f"Generated by `{report['command']}` ({report['started']}; load average at start "
        f"{report['load_average_at_start']}); {report['n_users']:,} users evaluated, in "
        f"{report['n_slices']} slices of up to {report['slice_users']} "
        f"user{'s' if report['slice_users'] != 1 else ''} by test time. Every 'as built' row "
        f"equals `fct_offline_metrics` to {AGREEMENT_TOL:g}.", "",
        f"| policy | Hit@{k} as built | Hit@{k} time-aware | NDCG@{k} as built | NDCG@{k} time-aware | "
        "as built / time-aware (NDCG) | fits, seconds |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for policy, result in report["policies"].items():
        built, aware = result["as built"], result["time-aware"]
        ratio = f"{built['ndcg'] / aware['ndcg']:.2f}x" if aware["ndcg"] else "–"
        lines.append(f"| {policy} | {built['hit_rate']:.4f} | {aware['hit_rate']:.4f} | {built['ndcg']:.4f} | "
                     f"{aware['ndcg']:.4f} | {ratio} | 1 + {aware['fits']}, {built['seconds']} + "
                     f"{aware['seconds']} s |")
    exact, sliced = report["popularity_exact"], report["policies"]["popularity"]["time-aware"]
    same = all(math.isclose(exact[name], sliced[name], rel_tol=0, abs_tol=AGREEMENT_TOL)
               for name in ("hit_rate", "ndcg"))
    lines += ["", f"Popularity with `bench/leakage.py`'s exact per-user counts: Hit@{k} {exact['hit_rate']:.4f}, "
                  f"NDCG@{k} {exact['ndcg']:.4f}; the time-aware popularity row above "
                  + {(True, True): "equals it (one user per slice: a check of the retraining).",
                     (True, False): "**differs from it** (one user per slice: the retraining is not what was "
                                    "known at the test events).",
                     (False, True): "equals it: the slices of several users change nothing there.",
                     (False, False): "differs from it by the slicing's own error."}[
                      (report["slice_users"] == 1, same)]]
    after, left_in, left_out = (exposure[name] for name in (
        "rows_after_test_as_built", "rows_after_test_in_slice", "rows_known_left_out"))
    lines += ["", "Training rows dated after a user's test event, per user (mean / max): as built "
                  f"{after['mean']:,.0f} / {after['max']:,}; left in by the slices (slice-mates' rows) "
                  f"{left_in['mean']:,.1f} / {left_in['max']:,}. Rows known at the test event that the slice's "
                  f"model lacks (other users', from the slice's start): {left_out['mean']:,.1f} / "
                  f"{left_out['max']:,}, of {report['n_train_rows']:,} training rows."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (leave-last-out split)")
    parser.add_argument("--policies", nargs="+", default=["svd", "two_stage_lgbm"],
                        help="python policies to retrain (popularity is always added)")
    parser.add_argument("--slice-users", type=int, default=1,
                        help="users per retraining (1: one model per user, exact; more: fewer fits, approximate)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--name")
    args = parser.parse_args()
    if args.slice_users < 1:
        raise SystemExit(f"leakage_retrain: --slice-users must be >= 1, got {args.slice_users}")
    dataset = args.warehouse.stem  # warehouse/<dataset>.duckdb
    con = duckdb.connect(str(args.warehouse), read_only=True)
    split = con.execute("select * from int_split").df()
    if split.loc[split["split"] != "train"].groupby("user_id").size().max() != 1 or \
            set(split["split"]) != {"train", "test"}:
        raise SystemExit(f"leakage_retrain: {args.warehouse} is not a leave-last-out split (one test row per user)")
    train, items, _ = training_inputs(split, con.execute("select * from stg_items").df())
    servable = servable_restriction(con.execute("select item_id from int_servable_items").df(),
                                    con.execute("select item_id from stg_items").df())
    evaluated = evaluated_users(split)
    user_slices = slices(evaluated, args.slice_users)
    exposure = pd.concat([slice_exposure(train, users) for users in user_slices])
    report: dict[str, Any] = {
        "command": f".venv/bin/python bench/leakage_retrain.py --warehouse {args.warehouse} --policies "
                   f"{' '.join(args.policies)} --slice-users {args.slice_users} --k {args.k}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average_at_start": load_average(),
        "dataset": dataset, "k": args.k, "slice_users": args.slice_users, "n_slices": len(user_slices),
        "n_users": len(evaluated), "n_train_rows": len(train), "policies": {},
        "exposure": {column: {"mean": float(exposure[column].mean()), "max": int(exposure[column].max())}
                     for column in exposure.columns if column != "user_id"},
    }
    for policy in ["popularity", *[p for p in args.policies if p != "popularity"]]:
        recommend, k_list, params = policy_call(con, policy)
        result = policy_leak(recommend, k_list, params, train, items, servable, evaluated, user_slices, args.k)
        mart = con.execute("select n_users_evaluated, hit_rate, ndcg from fct_offline_metrics "
                           "where policy = ? and k = ?", [policy, args.k]).fetchone()
        check_as_built(policy, result["as built"], mart)
        report["policies"][policy] = result | {"parameters": params}
    report["popularity_exact"] = leakage.popularity_metrics(con, args.k, "time-aware")
    write_results(args.out, args.name or f"leakage_retrain_{dataset}", report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
