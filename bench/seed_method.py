"""The seed notebook's A/B + fairness analysis, its way (a pandas filter per user) versus the warehouse's way.

Usage: python bench/seed_method.py [--warehouse PATH] [--repeat 15] [--out bench/results]

Without ``--warehouse`` the script first builds the seed-compat 1× warehouse (``seed_compat: true``) through
``feedlab.build`` into bench/.work/seed_compat_1x/, as bench/run.py does. Then, on that one world:

* Shared, untimed inputs (the same for both sides): the feeds the warehouse serves, ``int_seed_feeds`` (treatment:
  each user's SVD top-10 from the python model ``int_seed_svd_feeds``; control: the 10 videos with the highest mean
  watch time; the seed's 50/50 split), the warehouse's ``sim_interactions`` and each video's creator.
* Timed, "that part": from the feeds to the figures -- per-user watch time on already-watched feed videos, group
  means, uplift, Student t-test, creator exposure, Gini and long-tail share of each arm.
  1. seed method: a Python loop over users, each filtering the interactions DataFrame
     (``df[df.user_id == u]`` then ``.isin(feed)``), then ``ttest_ind``; creator exposure counted in a loop over
     the feeds; Gini and long-tail with NumPy -- the notebook's way, re-implemented from its description.
  2. warehouse: the SQL of the model ``int_seed_reproduction`` exactly as dbt compiled it (``dbt compile``; no
     copy of the query here), run by DuckDB over the warehouse file as dbt runs it (``create table ... as``, here a
     temporary table): planning and execution of the whole model -- its inputs are the table and view it reads
     (``int_seed_feeds``, ``stg_interactions``). It computes exactly the figures the seed side does (the notebook's
     other figure, user 42's SVD top-5, is read by ``fct_seed_reproduction`` from ``int_seed_svd_feeds``).
  The sides take turns round by round, so they share the machine's load; in each round every side runs twice back
  to back, "cold" (right after the other sides: ~1.4 s in which DuckDB sat idle) and
  "warm" (right after itself, the steady state timeit measures); median and minimum kept for both, and a 95 %
  bootstrap interval of the ratio of medians (rounds resampled, both sides of a round together).
  For reference, the model that builds the feeds (``int_seed_feeds``: the control feed's popularity ranking,
  joins to the split and the creators) is timed the same way, and ``dbt run`` of both models on a copy of the
  warehouse gives dbt's node times and the command's wall time (dbt start-up included).
* Every side's figures must agree with fct_seed_reproduction.warehouse_value to 1e-6 relative (the SQL p-value's
  normal tail is accurate to 1.2e-7; the other figures agree to ~1e-15), and the mart must match the notebook's
  printed figures (column ``matches``), or the script stops.

Results: bench/results/seed_method.json and seed_method.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402  (bench/run.py)

PROJECT_DIR = bench_run.PROJECT_DIR
DBT_VARS = "{dataset: synthetic, seed_compat: true}"
#: The model timed as "that part", and the model that builds its input feeds (timed for reference).
THAT_PART = "int_seed_reproduction"
FEEDS_MODEL = "int_seed_feeds"
FIGURES = (
    "control_watch_time_s", "treatment_watch_time_s", "uplift_pct", "p_value",
    "creator_gini_control", "creator_gini_treatment", "long_tail_share_control", "long_tail_share_treatment",
)
LONG_TAIL_QUANTILE = 0.8
#: Relative agreement required between the sides and the mart (4 significant digits would be 5e-4).
AGREEMENT_RTOL = 1e-6


# ----------------------------------------------------------------------------------------------- shared inputs
def shared_inputs(con: duckdb.DuckDBPyConnection) -> dict:
    """The served feeds, the interactions and each video's creator, from the warehouse (untimed)."""
    feeds = con.sql(f"select arm, user_id, slot, item_id from {FEEDS_MODEL} order by arm, user_id, slot").df()
    control = feeds[feeds["arm"] == "control"]
    treatment = feeds[feeds["arm"] == "treatment"]
    popular = control.drop_duplicates("slot").sort_values("slot")["item_id"].tolist()
    return {
        "interactions": con.sql("select * from sim_interactions order by interaction_id").df(),
        "control_users": control["user_id"].unique(),
        "treatment_users": treatment["user_id"].unique(),
        "popular": popular,
        "treatment_feed_of": {int(u): [int(v) for v in g["item_id"]] for u, g in treatment.groupby("user_id")},
        "video_creator": con.sql("select video_id, creator_id from sim_videos").df()
        .set_index("video_id")["creator_id"],
    }


# ------------------------------------------------------------------------------------------ 1. the seed's way
def gini(exposure: np.ndarray) -> float:
    """The notebook's Gini: 2·Σ i·x_i / (n·Σ x) − (n + 1)/n over the sorted exposures (0 for all zeros)."""
    x = np.sort(np.asarray(exposure, dtype=np.float64))
    if x.sum() == 0:
        return 0.0
    n = x.size
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


def long_tail_share(exposure: np.ndarray) -> float:
    """The notebook's long tail: share of slots of creators strictly below the exposure's 0.8 quantile."""
    x = np.asarray(exposure, dtype=np.float64)
    return float(x[x < np.quantile(x, LONG_TAIL_QUANTILE)].sum() / x.sum())


def seed_method(inputs: dict) -> dict:
    """The notebook's way: filter the whole DataFrame once per user, then ttest_ind, exposure counted in a loop."""
    df = inputs["interactions"]
    popular = inputs["popular"]
    feed_of = inputs["treatment_feed_of"]

    def user_watch_time(user: int, recommended: list[int]) -> float:
        user_data = df[df["user_id"] == user]
        watched = user_data[user_data["video_id"].isin(recommended)]
        return watched["watch_time_s"].mean() if len(watched) > 0 else np.nan

    control_values = [user_watch_time(u, popular) for u in inputs["control_users"]]
    treatment_values = [user_watch_time(u, feed_of[int(u)]) for u in inputs["treatment_users"]]
    control, treatment = float(np.nanmean(control_values)), float(np.nanmean(treatment_values))
    _, p_value = stats.ttest_ind(treatment_values, control_values, nan_policy="omit")

    video_creator = inputs["video_creator"]
    exposures = {}
    for arm, feeds in (("control", [popular] * len(inputs["control_users"])),
                       ("treatment", [feed_of[int(u)] for u in inputs["treatment_users"]])):
        creators = []
        for feed in feeds:
            for video in feed:
                creators.append(video_creator[video])
        exposures[arm] = pd.Series(creators).value_counts().sort_index().to_numpy()
    return {
        "control_watch_time_s": control,
        "treatment_watch_time_s": treatment,
        "uplift_pct": (treatment - control) / control * 100,
        "p_value": float(p_value),
        "creator_gini_control": gini(exposures["control"]),
        "creator_gini_treatment": gini(exposures["treatment"]),
        "long_tail_share_control": long_tail_share(exposures["control"]),
        "long_tail_share_treatment": long_tail_share(exposures["treatment"]),
    }


# ------------------------------------------------------------------------------------------ 2. the warehouse
def compiled_sql(warehouse: Path, workdir: Path) -> dict[str, str]:
    """The models' SQL as ``dbt compile`` renders it for this warehouse (the SQL ``dbt run`` executes)."""
    target = workdir / "seed_method_compile"
    shutil.rmtree(target, ignore_errors=True)
    cmd = [str(Path(sys.executable).with_name("dbt")), "compile", "-s", FEEDS_MODEL, THAT_PART, "--vars", DBT_VARS,
           "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
           "--target-path", str(target / "target"), "--log-path", str(target / "logs")]
    done = subprocess.run(cmd, cwd=PROJECT_DIR, env={**os.environ, "FEEDLAB_WAREHOUSE": str(warehouse)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:])
        raise SystemExit("seed_method: dbt compile failed")
    nodes = json.loads((target / "target" / "manifest.json").read_text())["nodes"]
    sql = {node["name"]: node["compiled_code"] for node in nodes.values()
           if node["resource_type"] == "model" and node["name"] in (FEEDS_MODEL, THAT_PART)}
    shutil.rmtree(target, ignore_errors=True)
    return sql


def run_model(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """What dbt-duckdb's table materialization runs for the model: create a table as the model's query."""
    con.execute(f"create or replace temp table bench_{name} as (\n{sql}\n)")


def warehouse_figures(con: duckdb.DuckDBPyConnection) -> dict:
    rows = dict(con.execute(f"select figure, warehouse_value from bench_{THAT_PART}").fetchall())
    return {f: rows[f] for f in FIGURES}


# ---------------------------------------------------------------------------------------------------- timing
#: Each side runs twice per round. The first run comes right after the other sides' runs: for the warehouse that
#: is right after ~1.4 s of the pandas loop, and any pause that long costs the model ~2.3 ms whether the CPU slept or
#: ran Python (bench/profile_seed_model.py), while the seed loop's DataFrame survives the short queries before it.
#: The second run follows a run of the same side: each side in its own steady state, as timeit and pyperf measure
#: (a warm-up run discarded).
STATES = ("cold", "warm")


#: The ratio's confidence interval: percentile bootstrap over the rounds, with a fixed generator (reproducible from
#: the JSON's per-round seconds).
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


def summary(seconds: list[float], load: list[float]) -> dict:
    return {"min_seconds": round(min(seconds), 5), "median_seconds": round(statistics.median(seconds), 5),
            "runs": len(seconds), "load_average_before": load, "seconds_per_round": [round(s, 7) for s in seconds]}


def ratio_of_medians_interval(numerator: list[float], denominator: list[float]) -> tuple[float, float]:
    """CONFIDENCE percentile-bootstrap interval of median(numerator) / median(denominator).

    Both lists have shape (n_rounds,) and are indexed by round; a resample draws rounds with replacement and takes
    the same rounds from both, since the two sides of a round shared the machine's load then."""
    num, den = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    rounds = np.random.default_rng(BOOTSTRAP_SEED).integers(0, len(num), size=(BOOTSTRAP_RESAMPLES, len(num)))
    ratios = np.median(num[rounds], axis=1) / np.median(den[rounds], axis=1)
    low, high = np.quantile(ratios, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(low), float(high)


def timed_rounds(methods: dict[str, Callable[[], None]], repeat: int) -> dict[str, dict[str, list[float]]]:
    """``repeat`` rounds; in each, every method runs once per STATES entry back to back, so that every method sees
    the same load over time. Returns seconds[method][state], ``repeat`` values each."""
    seconds = {name: {state: [] for state in STATES} for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            for state in STATES:
                started = time.perf_counter()
                fn()
                seconds[name][state].append(time.perf_counter() - started)
    return seconds


def speed_ups(seconds: dict[str, dict[str, list[float]]]) -> dict:
    """Seed time over warehouse time per state, on medians and on minima; and over both models (feeds included)."""
    seed, that_part = seconds["seed_pandas_loop"], seconds[f"warehouse_{THAT_PART}"]
    feeds = seconds[f"warehouse_{FEEDS_MODEL}"]
    ratios = {}
    for state in STATES:
        both = [a + b for a, b in zip(that_part[state], feeds[state])]
        ratios[state] = {
            "warehouse_median": round(statistics.median(seed[state]) / statistics.median(that_part[state]), 1),
            "warehouse_median_interval": [round(x, 1) for x in ratio_of_medians_interval(seed[state],
                                                                                           that_part[state])],
            "warehouse_min": round(min(seed[state]) / min(that_part[state]), 1),
            "both_models_median_seconds": round(statistics.median(both), 5),
            "both_models_median": round(statistics.median(seed[state]) / statistics.median(both), 1),
        }
    return ratios


def dbt_models(warehouse: Path, workdir: Path) -> dict:
    """``dbt run`` of the two SQL models on a copy of the warehouse: command wall time and node times."""
    copy_dir = workdir / "dbt_run_copy"
    shutil.rmtree(copy_dir, ignore_errors=True)
    copy_dir.mkdir(parents=True)
    copy = copy_dir / warehouse.name
    shutil.copy2(warehouse, copy)
    cmd = [str(Path(sys.executable).with_name("dbt")), "run", "-s", FEEDS_MODEL, THAT_PART, "--vars", DBT_VARS,
           "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
           "--target-path", str(copy_dir / "target"), "--log-path", str(copy_dir / "logs")]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=PROJECT_DIR, env={**os.environ, "FEEDLAB_WAREHOUSE": str(copy)},
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:])
        raise SystemExit("seed_method: dbt run of the seed models failed")
    results = json.loads((copy_dir / "target" / "run_results.json").read_text())["results"]
    # run_results also lists the on-run-start hooks (operation nodes): only the two models are reported
    nodes = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 3) for r in results
             if r["unique_id"].startswith("model.")}
    shutil.rmtree(copy_dir, ignore_errors=True)
    return {"command_wall_seconds": round(wall, 3), "node_seconds": nodes}


def check_agreement(name: str, figures: dict, reference: dict) -> None:
    bad = [f for f in FIGURES if not math.isclose(figures[f], reference[f], rel_tol=AGREEMENT_RTOL, abs_tol=1e-12)]
    if bad:
        raise SystemExit(f"seed_method: {name} disagrees with fct_seed_reproduction on {bad}: "
                         f"{ {f: (figures[f], reference[f]) for f in bad} }")


def interval_sentence(warm: dict, cold: dict) -> str:
    """The ratios' bootstrap intervals, for reports that have them (runs before session 9 kept no per-round times)."""
    if "warehouse_median_interval" not in warm:
        return ""
    (warm_low, warm_high), (cold_low, cold_high) = warm["warehouse_median_interval"], cold["warehouse_median_interval"]
    return (f" {CONFIDENCE:.0%} bootstrap intervals of the ratio of medians (rounds resampled, both sides of a "
            f"round together): warm {warm_low:g}-{warm_high:g}x, cold {cold_low:g}-{cold_high:g}x.")


def write_markdown(report: dict, path: Path) -> None:
    """seed_method.md: what is timed on each side, the measured times and ratios, the figures."""
    t = report["timings"]
    dbt = report["dbt_run"]
    seed, wh, feeds = t["seed_pandas_loop"], t[f"warehouse_{THAT_PART}"], t[f"warehouse_{FEEDS_MODEL}"]
    lines = [
        "# The seed notebook's A/B + fairness analysis: its method vs the warehouse's",
        "",
        f"Generated by `.venv/bin/python bench/seed_method.py --repeat {report['repeat']}` ({report['started']}); "
        f"{report['cores']} cores; load average (1/5/15 min) at start {report['load_average_at_start']}, at end "
        f"{report['load_average_at_end']}. The sides took turns round by round in one process, so they shared the "
        "same load.",
        "",
        f"World: the seed-compat 1x world (`seed_compat: true`): {report['n_interactions']:,} interactions, "
        f"{report['n_control_users']:,} control and {report['n_treatment_users']:,} treatment users.",
        "",
        "## What is timed",
        "",
        "Untimed and shared by both sides: the feeds the warehouse serves (`int_seed_feeds`: treatment = each "
        "user's SVD top-10 from the python model `int_seed_svd_feeds`, control = the 10 videos with the highest "
        "mean watch time, the seed's 50/50 split), `sim_interactions` (loaded once into pandas for the seed side) "
        "and each video's creator.",
        "",
        "Timed (\"that part\"): from the feeds to the figures -- per-user mean logged watch time on feed videos the "
        "user already watched, group means, uplift, Student t-test p-value, creator exposure per arm, its Gini and "
        "long-tail share.",
        "",
        "* **Seed method** (re-implemented from the notebook's description): for every user, "
        "`df[df.user_id == u]` then `.isin(feed)` and `.mean()` (NaN when empty); `np.nanmean`; "
        "`scipy.stats.ttest_ind(..., nan_policy='omit')`; creators of every served slot collected in a Python loop, "
        "`value_counts`; Gini and long-tail share with NumPy.",
        "* **Warehouse**: the model `int_seed_reproduction`, its SQL exactly as `dbt compile` renders it (read "
        "from the manifest, not re-typed), run by DuckDB on the warehouse file as dbt-duckdb's table "
        "materialization runs it (`create table ... as (<model SQL>)`, here into a temporary table; the file is "
        "opened read-only): query planning and execution. The model reads `int_seed_feeds` and the staging view "
        "`stg_interactions`; it computes the per-user metric (join and group by), the arms' moments, the t "
        "statistic and its p-value (macro `student_t_p_value`: Hill's expansion and a Chebyshev erfc), creator "
        "exposure, its Gini and long-tail share in one pass (macro `exposure_concentration`) -- the eight figures "
        "the seed side computes, no Python. (`fct_seed_reproduction` then sets them, and user 42's SVD top-5 "
        "from `int_seed_svd_feeds`, beside the notebook's printed values.)",
        "* **Reference**: the model that builds the feeds, `int_seed_feeds`, timed the same way (not part of the "
        "ratio: the seed side gets the feeds as input too); and `dbt run` of both models on a copy of the "
        "warehouse (dbt's node times include its own overhead; the command includes dbt's start-up).",
        "",
        f"{report['repeat']} rounds. In each, every side ran twice back to back: the **cold** run comes right "
        "after the other sides' runs -- for the warehouse, right after ~1.4 s of the pandas loop (any pause that "
        "long costs the model ~2.3 ms, idle or busy: `bench/profile_seed_model.py`), while the seed loop's "
        "DataFrame survives the short queries before it; the **warm** "
        "run follows a run of the same side, each side in its own steady state (as timeit and pyperf time, a "
        "warm-up run discarded). Median and minimum shown for both. Every side's eight figures were asserted equal "
        "to `fct_seed_reproduction.warehouse_value` to 1e-6 relative, and the mart's 13 figures to the notebook's "
        "printed ones to 4 significant digits (`matches`), before any time was recorded.",
        "",
        "## Results",
        "",
        "| method | state | median (s) | min (s) | seed time / this time (medians) | (minima) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for state in STATES:
        ratio = report["ratios_seed_over"][state]
        lines += [
            f"| seed method: pandas filter per user + ttest_ind + exposure loop | {state} | "
            f"{seed[state]['median_seconds']:.4f} | {seed[state]['min_seconds']:.4f} | 1x | 1x |",
            f"| warehouse: model `{THAT_PART}` (compiled SQL, DuckDB) | {state} | "
            f"{wh[state]['median_seconds']:.4f} | {wh[state]['min_seconds']:.4f} | {ratio['warehouse_median']:g}x | "
            f"{ratio['warehouse_min']:g}x |",
            f"| reference: model `{FEEDS_MODEL}` (builds the input feeds) | {state} | "
            f"{feeds[state]['median_seconds']:.4f} | {feeds[state]['min_seconds']:.4f} | -- | -- |",
            f"| reference: both models, feeds included | {state} | {ratio['both_models_median_seconds']:.4f} | -- | "
            f"{ratio['both_models_median']:g}x | -- |",
        ]
    for node, seconds in dbt["node_seconds"].items():
        lines.append(f"| reference: dbt node `{node}` (dbt's timing) | -- | {seconds:.3f} | -- | -- | -- |")
    warm, cold = report["ratios_seed_over"]["warm"], report["ratios_seed_over"]["cold"]
    lines += [
        f"| reference: `dbt run -s {FEEDS_MODEL} {THAT_PART}` command (incl. dbt start-up) | -- | "
        f"{dbt['command_wall_seconds']:.2f} | -- | -- | -- |",
        "",
        f"Target \"warehouse >= 100x faster on that part\": the model the warehouse runs is "
        f"{warm['warehouse_median']:g}x faster on warm medians ({warm['warehouse_min']:g}x on minima), "
        f"{cold['warehouse_median']:g}x on cold medians ({cold['warehouse_min']:g}x on minima)."
        + interval_sentence(warm, cold),
        "",
        "## Figures (the mart, the seed method, the warehouse model)",
        "",
        "| figure | fct_seed_reproduction | seed method | int_seed_reproduction |",
        "|---|---:|---:|---:|",
    ]
    for figure in FIGURES:
        lines.append(f"| {figure} | {report['mart_figures'][figure]:.6g} | {seed['figures'][figure]:.6g} | "
                     f"{wh['figures'][figure]:.6g} |")
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="an already built seed-compat synthetic warehouse")
    parser.add_argument("--repeat", type=int, default=15, help="timed repetitions per side (min and median kept)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / ".work")
    parser.add_argument("--markdown-only", action="store_true", help="re-render seed_method.md from seed_method.json")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.markdown_only:
        write_markdown(json.loads((args.out / "seed_method.json").read_text()), args.out / "seed_method.md")
        return 0
    report: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "cores": os.cpu_count(), "repeat": args.repeat,
                    "load_average_at_start": bench_run.load_average()}
    warehouse = args.warehouse
    if warehouse is None:
        build = bench_run.run_build("synthetic", {"seed_compat": True}, args.workdir / "seed_compat_1x", [], None)
        if build["status"] != "ok":
            raise SystemExit(f"seed_method: the seed-compat build {build['status']}")
        report["seed_compat_build"] = {k: build[k] for k in ("wall_seconds", "dbt_elapsed_seconds", "peak_rss_gib")}
        warehouse = Path(build["warehouse"])
    sql = compiled_sql(warehouse.resolve(), args.workdir)

    con = duckdb.connect(str(warehouse), read_only=True)
    mart = {row[0]: row[1:] for row in
            con.sql("select figure, warehouse_value, matches from fct_seed_reproduction").fetchall()}
    if not all(matches for _, matches in mart.values()):
        raise SystemExit(f"seed_method: fct_seed_reproduction does not match the notebook: {mart}")
    reference = {f: mart[f][0] for f in FIGURES}
    inputs = shared_inputs(con)

    # Warm-up and agreement, before any timing: both sides' figures against the mart.
    run_model(con, FEEDS_MODEL, sql[FEEDS_MODEL])
    run_model(con, THAT_PART, sql[THAT_PART])
    sides = {"seed_pandas_loop": seed_method(inputs), "warehouse_int_seed_reproduction": warehouse_figures(con)}
    for name, figures in sides.items():
        check_agreement(name, figures, reference)

    load = bench_run.load_average()
    seconds = timed_rounds({
        "seed_pandas_loop": lambda: seed_method(inputs),
        f"warehouse_{THAT_PART}": lambda: run_model(con, THAT_PART, sql[THAT_PART]),
        f"warehouse_{FEEDS_MODEL}": lambda: run_model(con, FEEDS_MODEL, sql[FEEDS_MODEL]),
    }, args.repeat)
    check_agreement(f"warehouse_{THAT_PART} (last run)", warehouse_figures(con), reference)
    con.close()
    timings = {name: {state: summary(s, load) for state, s in by_state.items()} for name, by_state in seconds.items()}
    for name in sides:
        timings[name]["figures"] = sides[name]
    for name, timing in timings.items():
        print(name, {state: (timing[state]["min_seconds"], timing[state]["median_seconds"]) for state in STATES},
              flush=True)

    dbt = dbt_models(warehouse, args.workdir)
    report.update({
        "warehouse": str(warehouse),
        "n_interactions": len(inputs["interactions"]),
        "n_control_users": int(inputs["control_users"].size),
        "n_treatment_users": int(inputs["treatment_users"].size),
        "mart_figures": reference,
        "timings": timings,
        "dbt_run": dbt,
        "ratios_seed_over": speed_ups(seconds),
        "load_average_at_end": bench_run.load_average(),
    })
    (args.out / "seed_method.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    write_markdown(report, args.out / "seed_method.md")
    print(json.dumps({k: report[k] for k in ("ratios_seed_over", "dbt_run")}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
