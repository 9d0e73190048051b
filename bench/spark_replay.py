"""The feedback loop's day-by-day replay (var ``as_of_day``) on Spark, checked against the same replay on DuckDB.

Usage: python bench/spark_replay.py [--days 1 2] [--workdir bench/.work/spark_replay] [--out bench/results]
                                    [--name spark_replay]

In an emptied ``workdir``, on the small world (300 users, 9,000 interactions over 10 days; svd and two_stage_lgbm,
the policies tests/python/test_feedback_loop.py replays), for each day N of ``--days`` in order:

1. ``python -m feedlab.build --vars '{..., as_of_day: N}'`` into ``workdir/duckdb``, continuing that warehouse as
   successive ``make build`` runs do;
2. its python models' outputs exported as Parquet (``feedlab.spark export``) into ``workdir/python_outputs_N``;
3. ``dbt build --target spark`` over them into ``workdir/spark``, continuing the Spark tables of the day before
   (``int_interaction_log``: append of the new rows; ``fct_metrics_daily``: insert_overwrite of the day's partition);
4. both engines' ``int_interaction_log`` and ``fct_metrics_daily`` compared row by row (``feedlab.spark.rows_equal``,
   1e-9), with the log's rows, distinct ids and days and the history's rows per day.

Then on Spark only: the last day once more (its two tables must come out the same), the first day after it (dbt
must refuse it before writing, naming both days) and the last day once more with another world (``noise_sd`` 0.2
instead of 0.1: dbt must refuse it before writing, naming the var and both values). Needs the spark venv
(``make spark-install``) and Java 17.
Results: <out>/<name>.json and <out>/<name>.md; exit 1 when a check fails.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PROJECT_DIR, load_average, write_results  # noqa: E402

from feedlab import spark  # noqa: E402

WORLD = {"dataset": "synthetic", "n_users": 300, "n_videos": 150, "n_creators": 40, "n_interactions": 9000,
         "n_days": 10, "python_policies": ["svd", "two_stage_lgbm"]}
TABLES = ("int_interaction_log", "fct_metrics_daily")
REFUSAL = "Days only move forward"
#: The replay of another world, and the words naming what changed that its refusal must print.
OTHER_WORLD = {"noise_sd": 0.2}
OTHER_WORLD_REFUSAL = "come from another source (noise_sd was '0.1', now '0.2')"


def duckdb_tables(warehouse: Path) -> tuple[dict[str, list[str]], dict[str, list[tuple]]]:
    """Column names and rows of TABLES in a DuckDB warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = {t: [row[0] for row in con.execute(f"describe {t}").fetchall()] for t in TABLES}
        rows = {t: con.execute(f"select * from {t}").fetchall() for t in TABLES}
    return columns, rows


def log_and_history_counts(rows: dict[str, list[tuple]], columns: dict[str, list[str]]) -> dict[str, Any]:
    """The log's rows, distinct interaction ids and highest event_day; the history's rows per as_of_day."""
    log, history = rows["int_interaction_log"], rows["fct_metrics_daily"]
    log_cols, history_cols = columns["int_interaction_log"], columns["fct_metrics_daily"]
    ids = [row[log_cols.index("interaction_id")] for row in log]
    days = [row[history_cols.index("as_of_day")] for row in history]
    return {"log_rows": len(log), "log_distinct_ids": len(set(ids)),
            "log_max_event_day": max((row[log_cols.index("event_day")] for row in log), default=None),
            "history_rows_per_day": {str(day): days.count(day) for day in sorted(set(days))}}


def compare_engines(duck: dict[str, list[tuple]], on_spark: dict[str, list[tuple]]) -> dict[str, list[str]]:
    """rows_equal of each table, DuckDB vs Spark (an empty list: equal)."""
    return {t: spark.rows_equal(duck[t], on_spark[t]) for t in TABLES}


def tables_changed(workdir: Path, before: dict[str, list[tuple]], columns: dict[str, list[str]]) -> list[str]:
    """TABLES on Spark (workdir/spark) that differ from ``before``."""
    after = spark.read_spark_tables(workdir / "spark", spark.spark_schema(), TABLES, columns)
    return [t for t, d in compare_engines(before, after).items() if d]


def duckdb_day(day: int, workdir: Path) -> Path:
    """Day ``day`` of the DuckDB replay (feedlab.build, continuing workdir/duckdb); the published warehouse."""
    dbt_vars = json.dumps({**WORLD, "as_of_day": day})
    log = workdir / f"duckdb_day{day}.log"
    with log.open("w") as out:
        done = subprocess.run([sys.executable, "-m", "feedlab.build", "--vars", dbt_vars, "--warehouse-dir",
                               str(workdir / "duckdb")], cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"spark_replay: the DuckDB build of day {day} failed; see {log}")
    return workdir / "duckdb" / "synthetic.duckdb"


def spark_day(day: int, outputs: Path, workdir: Path, label: str, other_vars: dict | None = None,
              refusal: str = REFUSAL) -> dict[str, Any]:
    """Day ``day`` on Spark over ``outputs``, continuing workdir/spark, with WORLD's vars updated by ``other_vars``:
    return code, seconds, dbt's last lines (its summary, errors and any line with ``refusal``)."""
    spark_dir = workdir / "spark"
    dbt_vars = json.dumps({**WORLD, **(other_vars or {}), "as_of_day": day})
    started = time.perf_counter()
    done = spark.run_spark_dbt(["build", "--vars", dbt_vars, "--target-path", str(spark_dir / "target"),
                                "--log-path", str(spark_dir / "logs")], outputs, spark_dir)
    (workdir / f"spark_{label}.log").write_text(done.stdout + done.stderr)
    lines = [line for line in done.stdout.splitlines() if "Done." in line or refusal in line or "Error" in line]
    return {"day": day, "returncode": done.returncode, "seconds": round(time.perf_counter() - started, 1),
            "dbt_summary": lines[-4:]}


def refused_on_spark(day: int, outputs: Path, workdir: Path, label: str, before: dict[str, list[tuple]],
                     columns: dict[str, list[str]], refusal: str, other_vars: dict | None = None) -> dict[str, Any]:
    """A Spark run that must be refused with ``refusal`` and leave TABLES as ``before``: its run, whether it was
    refused so, and the tables it changed."""
    run = spark_day(day, outputs, workdir, label, other_vars, refusal)
    refused = run["returncode"] != 0 and any(refusal in line for line in run["dbt_summary"])
    return {"spark": run, "refused": refused, "changed": tables_changed(workdir, before, columns)}


def replay(days: list[int], workdir: Path) -> dict[str, Any]:
    """The whole replay and its checks (see the module docstring); ``ok`` is True when every check passed."""
    report: dict[str, Any] = {"days": [], "failures": []}
    on_spark: dict[str, list[tuple]] = {}
    for day in days:
        warehouse = duckdb_day(day, workdir)
        outputs = workdir / f"python_outputs_{day}"
        spark.export_python_outputs(warehouse, outputs)
        run = spark_day(day, outputs, workdir, f"day{day}")
        columns, duck = duckdb_tables(warehouse)
        entry: dict[str, Any] = {"spark": run, "duckdb_counts": log_and_history_counts(duck, columns)}
        if run["returncode"] != 0:
            report["failures"].append(f"day {day}: the Spark build failed")
        else:
            on_spark = spark.read_spark_tables(workdir / "spark", spark.spark_schema(), TABLES, columns)
            entry["spark_counts"] = log_and_history_counts(on_spark, columns)
            entry["differences"] = compare_engines(duck, on_spark)
            report["failures"] += [f"day {day}: {t} differs: {d[:3]}" for t, d in entry["differences"].items() if d]
            if entry["spark_counts"]["log_rows"] != entry["spark_counts"]["log_distinct_ids"]:
                report["failures"].append(f"day {day}: int_interaction_log on Spark has duplicate interaction ids")
        report["days"].append(entry)

    if report["failures"]:
        report["ok"] = False
        return report
    last, first = days[-1], days[0]
    again = spark_day(last, workdir / f"python_outputs_{last}", workdir, f"day{last}_again")
    changed = tables_changed(workdir, on_spark, columns)
    report["same_day_again"] = {"spark": again, "changed": changed}
    if again["returncode"] != 0 or changed:
        report["failures"].append(f"day {last} run again on Spark did not reproduce its tables: {changed}")
    if first < last:
        back = refused_on_spark(first, workdir / f"python_outputs_{first}", workdir, f"day{first}_after_day{last}",
                                on_spark, columns, REFUSAL)
        report["earlier_day"] = back
        if not back["refused"] or back["changed"]:
            report["failures"].append(f"day {first} after day {last} was not refused on Spark, or it changed "
                                      f"tables: {back['changed']}")
    other = refused_on_spark(last, workdir / f"python_outputs_{last}", workdir, f"day{last}_other_world", on_spark,
                             columns, OTHER_WORLD_REFUSAL, OTHER_WORLD)
    report["other_world"] = other
    if not other["refused"] or other["changed"]:
        report["failures"].append(f"day {last} of another world ({OTHER_WORLD}) was not refused on Spark naming the "
                                  f"var, or it changed tables: {other['changed']}")
    report["ok"] = not report["failures"]
    return report


def refusal_markdown(run: dict, what: str) -> list[str]:
    """The lines of spark_replay.md on a run that had to be refused (refused_on_spark's result)."""
    return [f"Day {run['spark']['day']} {what} on Spark: return code {run['spark']['returncode']}, "
            f"{'refused' if run['refused'] else '**not refused**'}; "
            + (f"**changed**: {', '.join(run['changed'])}." if run["changed"] else "both tables unchanged.")
            + " dbt's last lines:", "", "```", *run["spark"]["dbt_summary"], "```"]


def markdown(report: dict) -> str:
    """spark_replay.md: per day, both engines' counts and whether their tables are equal; then the three re-runs."""
    lines = [
        "# The feedback loop's replay on Spark vs DuckDB", "",
        f"Generated by `.venv/bin/python bench/spark_replay.py --days {' '.join(map(str, report['day_numbers']))}` "
        f"({report['started']}; load average at start {report['load_average_at_start']}). World: "
        f"`{json.dumps(WORLD)}`; each day built on DuckDB (`feedlab.build`), its python outputs exported, then "
        "`dbt build --target spark` over them, both continuing the day before's tables.", "",
        "| day | Spark build (s) | log rows DuckDB / Spark | distinct ids on Spark | highest event_day | "
        "history rows per day on Spark | int_interaction_log equal | fct_metrics_daily equal |",
        "|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for entry in report["days"]:
        run, duck, on_spark = entry["spark"], entry["duckdb_counts"], entry.get("spark_counts")
        if on_spark is None:
            lines.append(f"| {run['day']} | failed (rc {run['returncode']}) | {duck['log_rows']} / – | | | | | |")
            continue
        equal = {t: "yes" if not d else f"**no** ({len(d)} differences)" for t, d in entry["differences"].items()}
        lines.append(
            f"| {run['day']} | {run['seconds']} | {duck['log_rows']} / {on_spark['log_rows']} | "
            f"{on_spark['log_distinct_ids']} | {on_spark['log_max_event_day']} | "
            f"{json.dumps(on_spark['history_rows_per_day'])} | {equal['int_interaction_log']} | "
            f"{equal['fct_metrics_daily']} |")
    if "same_day_again" in report:
        again = report["same_day_again"]
        lines += ["", f"Day {again['spark']['day']} run again on Spark: return code {again['spark']['returncode']}; "
                      + (f"**changed**: {', '.join(again['changed'])}." if again["changed"]
                         else "both tables the same as after its first run.")]
    for key, what in (("earlier_day", "after it"), ("other_world", f"with {json.dumps(OTHER_WORLD)}")):
        if key in report:
            lines += ["", *refusal_markdown(report[key], what)]
    lines += ["", "All checks passed." if report["ok"] else "**Failed:** " + "; ".join(report["failures"])]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[1, 2], help="days to replay, in increasing order")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / ".work" / "spark_replay")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--name", default="spark_replay")
    args = parser.parse_args()
    if args.days != sorted(set(args.days)) or args.days[0] < 1:
        raise SystemExit(f"spark_replay: --days must be increasing day numbers >= 1, got {args.days}")
    if spark.spark_dbt() is None or shutil.which("java") is None:
        raise SystemExit("spark_replay: needs the spark venv (`make spark-install`) and Java 17")
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    started = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average_at_start": load_average(),
               "day_numbers": args.days}
    report = started | replay(args.days, args.workdir)
    write_results(args.out, args.name, report, markdown(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
