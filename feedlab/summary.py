"""Console summary of a built warehouse: ``python -m feedlab.summary --warehouse warehouse/synthetic.duckdb``.

Prints, from the marts (the warehouse is opened read-only):

* one line per experiment × treatment arm: the primary metric's relative lift with its 95 % CI, the
  Holm-adjusted p-value and the sample-ratio-mismatch flag (fct_ab_results, fct_srm_checks);
* the best policy by NDCG@10 (fct_offline_metrics);
* on the synthetic data set, the best policy by simulated policy value and its share of the oracle
  (fct_policy_value).

A mart that is absent is reported as such on its line; the summary never fails because of it.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Sequence

import duckdb

from feedlab.export import connect_readonly, dataset_name, existing_tables

# The first of these that fct_ab_results holds is the primary metric (MovieLens' replay has only `hit`).
PRIMARY_METRICS: tuple[str, ...] = ("watch_time_per_video", "engagement", "hit")


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:+.1f}%"


def _num(x: float | None, fmt: str = ".4g") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _p(x: float | None) -> str:
    """A p-value; 0 means it underflowed double precision."""
    return "<1e-300" if x == 0 else _num(x, ".2g")


def primary_metric(con: duckdb.DuckDBPyConnection) -> str | None:
    """The first metric of PRIMARY_METRICS with at least one defined lift in fct_ab_results (else any metric)."""
    rows = con.sql(
        "select metric, count(absolute_lift) filter (where not isnan(absolute_lift)) "
        "from fct_ab_results group by metric order by metric"
    ).fetchall()
    defined = {metric: n for metric, n in rows}
    for metric in PRIMARY_METRICS:
        if defined.get(metric):
            return metric
    return rows[0][0] if rows else None


def experiment_lines(con: duckdb.DuckDBPyConnection, tables: set[str], metric: str | None = None) -> list[str]:
    """One line per experiment × treatment arm (see the module docstring)."""
    if "fct_ab_results" not in tables:
        return ["Experiments: fct_ab_results is not in this warehouse (build the experiments marts)."]
    metric = metric or primary_metric(con)
    if metric is None:
        return ["Experiments: fct_ab_results is empty."]
    srm: dict[str, bool] = {}
    if "fct_srm_checks" in tables:
        srm = dict(con.sql("select experiment_id, srm_flag from fct_srm_checks").fetchall())
    rows = con.execute(
        "select experiment_id, treatment_arm, n_control, n_treatment, relative_lift, relative_ci_low, "
        "relative_ci_high, p_value_holm from fct_ab_results where metric = ? order by experiment_id, treatment_arm",
        [metric],
    ).fetchall()
    lines = [f"Experiments ({metric}: relative lift vs control, 95% CI, Holm p, sample-ratio mismatch):"]
    width = max((len(f"{e} / {a}") for e, a, *_ in rows), default=10)
    for exp, arm, n_c, n_t, lift, lo, hi, p_holm in rows:
        if exp not in srm:
            flag = "SRM n/a"
        else:
            flag = "SRM MISMATCH" if srm[exp] else "SRM ok"
        lines.append(
            f"  {f'{exp} / {arm}':<{width}}  lift {_pct(lift):>7} [{_pct(lo)}, {_pct(hi)}]  "
            f"p_holm={_p(p_holm)}  n={n_c}/{n_t}  {flag}"
        )
    return lines


def best_offline_line(con: duckdb.DuckDBPyConnection, tables: set[str], k: int = 10) -> str:
    """The policy with the highest NDCG@k in fct_offline_metrics."""
    if "fct_offline_metrics" not in tables:
        return f"Best policy by NDCG@{k}: fct_offline_metrics is not in this warehouse."
    row = con.execute(
        "select policy, ndcg, hit_rate from fct_offline_metrics where k = ? and ndcg is not null and not isnan(ndcg) "
        "order by ndcg desc, policy limit 1",
        [k],
    ).fetchone()
    if row is None:
        return f"Best policy by NDCG@{k}: no policy evaluated at K = {k}."
    return f"Best policy by NDCG@{k}: {row[0]} (NDCG@{k} {row[1]:.4f}, hit rate@{k} {row[2]:.4f})"


def best_value_line(con: duckdb.DuckDBPyConnection, tables: set[str], dataset: str) -> str | None:
    """The policy with the highest simulated value (synthetic only; None on other data sets)."""
    if dataset != "synthetic":
        return None
    if "fct_policy_value" not in tables:
        return "Best policy by policy value: fct_policy_value is not in this warehouse."
    row = con.sql(
        "select policy, policy_value_s, share_of_oracle from fct_policy_value where policy <> 'oracle' "
        "order by policy_value_s desc, policy limit 1"
    ).fetchone()
    if row is None:
        return "Best policy by policy value: fct_policy_value has no policy."
    return (
        f"Best policy by policy value: {row[0]} ({row[1]:.2f} s expected watch time per user's feed, "
        f"{row[2] * 100:.1f}% of the oracle)"
    )


def replay_day(con: duckdb.DuckDBPyConnection, tables: set[str]) -> int | None:
    """The last as_of_day of a day-by-day replay, or None for a build over the whole history (a snapshot, not one
    day of a replay: int_interaction_log.loaded_as_of_day is null). A day without new interactions loads no row
    into the log, so fct_metrics_daily's days count too."""
    if "int_interaction_log" not in tables:
        return None
    day = con.sql("select max(loaded_as_of_day) from int_interaction_log").fetchone()[0]
    if day is None or "fct_metrics_daily" not in tables:
        return day
    return max(day, con.sql("select max(as_of_day) from fct_metrics_daily").fetchone()[0] or 0)


def summarize(warehouse: Path | str, metric: str | None = None) -> str:
    """The whole summary as text (what ``main`` prints)."""
    con = connect_readonly(warehouse)
    try:
        tables = existing_tables(con)
        dataset = dataset_name(con, warehouse)
        day = replay_day(con, tables)
        replay = f", day-by-day replay through as_of_day {day}: every figure is that day's" if day is not None else ""
        lines = [f"feedlab summary: data set {dataset}{replay} ({warehouse})", ""]
        lines += experiment_lines(con, tables, metric)
        lines.append("")
        lines.append(best_offline_line(con, tables))
        value = best_value_line(con, tables, dataset)
        if value:
            lines.append(value)
    finally:
        con.close()
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a short summary of a feedlab warehouse.")
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse/synthetic.duckdb"),
                        help="the built warehouse, warehouse/<dataset>.duckdb (opened read-only)")
    parser.add_argument("--metric", default=None,
                        help="metric of fct_ab_results to summarise (default: watch_time_per_video, else "
                             "engagement, else hit)")
    args = parser.parse_args(argv)
    print(summarize(args.warehouse, args.metric))
    return 0


if __name__ == "__main__":
    sys.exit(main())
