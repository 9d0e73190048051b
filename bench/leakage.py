"""How much the per-user leave-last-out split flatters popularity: item counts over the whole training split vs
item counts as of each user's test event.

Usage: python bench/leakage.py --warehouse warehouse/movielens.duckdb [--k 10] [--out bench/results]

The split (``int_split``) holds out each user's last interaction, but the item counts that rank items for
``rec_popularity`` (``int_item_popularity``) -- and the ranker's item features -- are taken over every training row,
including other users' rows dated after this user's test event (README, Architecture). This script scores the
popularity policy two ways on one built warehouse, with the evaluation of ``fct_offline_metrics``:

* ``as built``: the count of training rows per item, as ``int_item_popularity`` ranks them; the script's Hit@K and
  NDCG@K must equal the mart's ``popularity`` row (else it stops), which checks the evaluation below;
* ``time-aware``: for each user, the count of training rows per item dated strictly before the user's first test
  event (an as-of join on each item's running count), the information a live system had then.

Both rank servable items by count (ties by item_id, as ``popularity_rank``), skip the user's training items and keep
the top K; a user counts when a test item is not among their training items (as ``fct_offline_user_metrics``).
Only for leave-last-out splits (synthetic, MovieLens, KuaiRec's default): KuaiRec's big_to_small protocol has no
per-user test time.

Results: bench/results/leakage_<dataset>.json and .md.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402  (bench/run.py)

#: Agreement required between the script's "as built" figures and fct_offline_metrics.
AGREEMENT_TOL = 1e-12

#: The users evaluated: their test event (one per user in a leave-last-out split) when it is not one of their
#: training items, as fct_offline_user_metrics counts them.
_EVALUATED = """
    train as (select user_id, item_id, event_at from int_split where split = 'train'),
    evaluated as (
        select user_id, item_id as test_item_id, event_at as test_at from int_split as test
        where split = 'test'
            and not exists (select 1 from train where train.user_id = test.user_id and train.item_id = test.item_id)
    )
"""

#: item_counts(user_id, item_id, n) over every (evaluated user, servable item): the training rows per item that
#: rank items for the user (0 for none, as int_item_popularity).
_COUNTS = {
    "as built": """
        counts as (select item_id, count(*) as n from train group by item_id),
        item_counts as (
            select evaluated.user_id, servable.item_id, coalesce(counts.n, 0) as n
            from evaluated
            cross join int_servable_items as servable
            left join counts on counts.item_id = servable.item_id
        )
    """,
    "time-aware": """
        running as (
            -- each item's count of training rows up to and including each of its event times
            select item_id, event_at, count(*) over (
                partition by item_id order by event_at range between unbounded preceding and current row) as n
            from train
        ),
        item_counts as (
            select evaluated.user_id, servable.item_id, coalesce(running.n, 0) as n
            from evaluated
            cross join int_servable_items as servable
            asof left join running
                on running.item_id = servable.item_id and running.event_at < evaluated.test_at
        )
    """,
}

#: Top k by count (ties by item_id) without the user's training items; Hit@k and NDCG@k of the one test item.
_SCORED = """
    ranked as (
        select user_id, item_id, row_number() over (partition by user_id order by n desc, item_id) as rank
        from item_counts
        where not exists (select 1 from train where train.user_id = item_counts.user_id
                                                and train.item_id = item_counts.item_id)
        qualify rank <= {k}
    )
select
    count(*) as n_users,
    avg(cast(ranked.rank is not null as double)) as hit_rate,
    avg(coalesce(ln(2) / ln(ranked.rank + 1), 0)) as ndcg
from evaluated
left join ranked on ranked.user_id = evaluated.user_id and ranked.item_id = evaluated.test_item_id
"""


def popularity_metrics(con: duckdb.DuckDBPyConnection, k: int, counts: str) -> dict[str, float]:
    """Hit@k and NDCG@k of count popularity over the users whose test item is not a training item; ``counts`` is
    a key of _COUNTS. Reads int_split (leave-last-out) and int_servable_items from ``con``."""
    sql = f"with {_EVALUATED}, {_COUNTS[counts]}, {_SCORED.format(k=k)}"
    n_users, hit_rate, ndcg = con.execute(sql).fetchone()
    return {"n_users": n_users, "hit_rate": hit_rate, "ndcg": ndcg}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (leave-last-out split)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=bench_run.PROJECT_DIR / "bench" / "results")
    args = parser.parse_args()
    con = duckdb.connect(str(args.warehouse), read_only=True)
    dataset = args.warehouse.stem  # warehouse/<dataset>.duckdb
    if con.execute("select count(*) <> count(distinct user_id) or bool_or(split not in ('train', 'test')) "
                   "from int_split where split <> 'train'").fetchone()[0]:
        raise SystemExit(f"leakage: {args.warehouse} is not a leave-last-out split (one test row per user)")
    mart = con.execute("select n_users_evaluated, hit_rate, ndcg from fct_offline_metrics "
                       "where policy = 'popularity' and k = ?", [args.k]).fetchone()
    if mart is None:
        raise SystemExit(f"leakage: fct_offline_metrics has no popularity row at k = {args.k}")
    report: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "warehouse": str(args.warehouse),
                    "dataset": dataset, "k": args.k, "mart": dict(zip(("n_users", "hit_rate", "ndcg"), mart))}
    for counts in _COUNTS:
        report[counts] = popularity_metrics(con, args.k, counts)
    built = report["as built"]
    if built["n_users"] != mart[0] or not all(
            math.isclose(built[name], value, rel_tol=0, abs_tol=AGREEMENT_TOL)
            for name, value in (("hit_rate", mart[1]), ("ndcg", mart[2]))):
        raise SystemExit(f"leakage: the 'as built' figures {built} differ from fct_offline_metrics {mart}")
    aware = report["time-aware"]
    lines = [
        f"# Popularity with item counts as built vs as of each user's test event ({dataset})", "",
        f"Generated by `.venv/bin/python bench/leakage.py --warehouse {args.warehouse} --k {args.k}` "
        f"({report['started']}); {built['n_users']:,} users evaluated. The 'as built' row equals "
        f"`fct_offline_metrics` (policy popularity, k = {args.k}) to {AGREEMENT_TOL:g}.", "",
        f"| item counts | Hit@{args.k} | NDCG@{args.k} |", "|---|---:|---:|",
        f"| as built: every training row (`int_item_popularity`) | {built['hit_rate']:.4f} | {built['ndcg']:.4f} |",
        f"| time-aware: training rows before the user's test event | {aware['hit_rate']:.4f} | {aware['ndcg']:.4f} |",
        "", f"Ratio as built / time-aware: Hit {built['hit_rate'] / aware['hit_rate']:.2f}x, "
        f"NDCG {built['ndcg'] / aware['ndcg']:.2f}x." if aware["hit_rate"] and aware["ndcg"] else "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"leakage_{dataset}.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / f"leakage_{dataset}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
