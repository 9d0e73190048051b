"""`make bench`, Spark part: build time of the synthetic 1× and 10× worlds on Spark (dbt-spark) next to DuckDB's.

Usage: python bench/spark_bench.py [--scales 1 10] [--vars '{...}'] [--out bench/results] [--name spark]
                                   [--timeout SECONDS]

For each scale, from nothing (the scale's folder ``bench/.work/spark_<scale>x/`` is emptied first):

1. a DuckDB build (bench/run.py's ``run_build``, the same as ``make bench``): wall time and peak tree RSS;
2. the export of its python models' outputs as Parquet (``python -m feedlab.spark export``);
3. ``dbt build --target spark`` over that export (``python -m feedlab.spark build``, the spark venv): wall time and
   peak RSS of the process tree (dbt and the PySpark JVM), sampled as bench/run.py does;
4. the parity check of the test suite's Spark build (tests/python/test_spark_parity.py, there on a small world): the BI
   marts ``feedlab.spark.PARITY_MARTS`` of both builds must be equal row by row, floats to 1e-9 (exit 1 otherwise).

``--vars`` (a YAML mapping) is added to every scale's vars, e.g. ``'{split_protocol: temporal}'``.

Both builds run every SQL model, seed, data test and unit test; DuckDB also trains the python models, which Spark
reads from the export instead. The like-for-like figure is therefore "shared nodes": the summed dbt execution time of
the nodes both builds ran (run_results.json), also split by bench/run.py's stages. Wall time minus that sum is start-up
(for Spark: the JVM and session), parsing, compilation, and for DuckDB the python models and the post-build exports.

Needs the spark venv (``make spark-install``) and Java 17. Results: <out>/<name>.json and <out>/<name>.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    PROJECT_DIR, SCALES, load_average, memory_gib, run_build, run_monitored, stage_of, stage_sort_key,
)

from feedlab import spark  # noqa: E402
from feedlab.build import parse_vars  # noqa: E402

NODE_KINDS = ("model", "seed", "test", "unit_test")


def node_seconds(run_results: Path) -> dict[str, float]:
    """dbt execution time of every model, seed, test and unit test of a run_results.json, by unique_id."""
    if not run_results.exists():
        return {}
    results = json.loads(run_results.read_text())["results"]
    return {r["unique_id"]: r["execution_time"] for r in results if r["unique_id"].split(".")[0] in NODE_KINDS}


def stage_of_node(unique_id: str) -> str:
    """bench/run.py's stage of a dbt unique_id (tests and unit tests are the stage ``tests``)."""
    kind = unique_id.split(".")[0]
    return stage_of(unique_id.split(".")[-1], "test" if kind in ("test", "unit_test") else "model")


def node_name(unique_id: str) -> str:
    """A dbt unique_id without package and hash: ``test.feedlab.unique_x.1a2b`` -> ``unique_x``."""
    parts = unique_id.split(".")
    return parts[2] if parts[0] == "test" else parts[-1]


def spark_build(outputs: Path, spark_dir: Path, dbt_vars: dict, timeout: float | None) -> dict[str, Any]:
    """``python -m feedlab.spark build`` from nothing; wall seconds, peak tree RSS and per-node seconds."""
    if spark_dir.exists():
        shutil.rmtree(spark_dir)
    cmd = [sys.executable, "-m", "feedlab.spark", "build", "--outputs", str(outputs), "--spark-dir", str(spark_dir),
           "--vars", json.dumps({**dbt_vars, "dataset": "synthetic"})]
    load_before = load_average()
    status, wall, monitor = run_monitored(cmd, spark_dir.with_name("spark_console.log"), timeout)
    return {"status": status, "wall_seconds": round(wall, 2), "peak_rss_gib": round(monitor.peak_kib / 2**20, 2),
            "load_average_before": load_before, "load_average_after": load_average(),
            "nodes": node_seconds(spark_dir / "target" / "run_results.json"),
            "console_log": str(monitor.log_file)}


def bench_scale(scale: int, extra_vars: dict, workdir: Path, timeout: float | None) -> dict[str, Any]:
    """DuckDB build, export and Spark build of one synthetic scale (its vars and ``extra_vars``); the comparison and
    the parity of the marts as one dict."""
    dbt_vars = {**SCALES[scale], **extra_vars}
    duck = run_build("synthetic", dbt_vars, workdir / "duckdb", [], timeout)
    result: dict[str, Any] = {"name": f"synthetic {scale}×", "scale": scale, "vars": dbt_vars, "duckdb": duck}
    if duck["status"] != "ok":
        return result
    outputs = workdir / "python_outputs"
    if outputs.exists():
        shutil.rmtree(outputs)
    started = time.perf_counter()
    exported = spark.export_python_outputs(Path(duck["warehouse"]), outputs)
    result["export"] = {"seconds": round(time.perf_counter() - started, 2), "tables": exported}
    on_spark = spark_build(outputs, workdir / "spark", dbt_vars, timeout)
    duck_nodes = node_seconds(workdir / "duckdb" / "target" / "run_results.json")
    spark_nodes = on_spark.pop("nodes")
    shared = sorted(set(duck_nodes) & set(spark_nodes))
    stages: dict[str, dict[str, float]] = {}
    for uid in shared:
        entry = stages.setdefault(stage_of_node(uid), {"nodes": 0, "duckdb_seconds": 0.0, "spark_seconds": 0.0})
        entry["nodes"] += 1
        entry["duckdb_seconds"] += duck_nodes[uid]
        entry["spark_seconds"] += spark_nodes[uid]
    result["spark"] = on_spark
    if on_spark["status"] == "ok":
        problems = spark.parity_problems(Path(duck["warehouse"]), workdir / "spark", spark.spark_schema())
        result["parity"] = {mart: found[:3] for mart, found in problems.items()}
    result["shared_nodes"] = {
        "nodes": len(shared),
        "duckdb_seconds": round(sum(duck_nodes[uid] for uid in shared), 2),
        "spark_seconds": round(sum(spark_nodes[uid] for uid in shared), 2),
        "spark_only_nodes": sorted(set(spark_nodes) - set(duck_nodes)),
        "stages": {k: {"nodes": v["nodes"], "duckdb_seconds": round(v["duckdb_seconds"], 2),
                       "spark_seconds": round(v["spark_seconds"], 2)}
                   for k, v in sorted(stages.items(), key=lambda kv: stage_sort_key(kv[0]))},
        "slowest_on_spark": [{"node": uid, "spark_seconds": round(spark_nodes[uid], 2),
                              "duckdb_seconds": round(duck_nodes[uid], 2)}
                             for uid in sorted(shared, key=lambda uid: -spark_nodes[uid])[:8]],
    }
    return result


def markdown(report: dict) -> str:
    """<name>.md: one row per scale, then seconds per stage over the nodes both builds ran."""
    machine = report["machine"]
    lines = [
        "# feedlab on Spark vs DuckDB",
        "",
        f"Machine: {machine['cores']} cores, {machine['memory_gib']} GiB RAM, Python {machine['python']}, "
        f"{machine['platform']}, {machine['java']}. Run started {report['started']}; load average before "
        f"{machine['load_average_at_start']} (other processes shared the machine). Spark: dbt-spark session, "
        "local[2], two dbt threads; DuckDB: one dbt thread." + (
            f" Vars added to every world's: `{json.dumps(report['vars'])}`." if report.get("vars") else ""),
        "Marts equal: `feedlab.spark.PARITY_MARTS` of both builds row by row, floats to 1e-9.",
        "",
        "| world | DuckDB build wall (s) | DuckDB peak RSS (GiB) | export (s) | Spark build wall (s) | "
        "Spark peak RSS (GiB) | shared nodes | DuckDB shared nodes (s) | Spark shared nodes (s) | "
        "load before DuckDB / Spark | marts equal to DuckDB's |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for build in report["builds"]:
        duck, on_spark, shared = build["duckdb"], build.get("spark"), build.get("shared_nodes")
        if on_spark is None:
            lines.append(f"| {build['name']} | {duck['status']} | | | | | | | | | |")
            continue
        status = "" if on_spark["status"] == "ok" else f" ({on_spark['status']})"
        lines.append(
            f"| {build['name']} | {duck['wall_seconds']:.1f} | {duck['peak_rss_gib']:.2f} | "
            f"{build['export']['seconds']:.1f} | {on_spark['wall_seconds']:.1f}{status} | "
            f"{on_spark['peak_rss_gib']:.2f} | {shared['nodes']} | {shared['duckdb_seconds']:.1f} | "
            f"{shared['spark_seconds']:.1f} | {duck['load_average_before'][0]} / "
            f"{on_spark['load_average_before'][0]} | {parity_cell(build.get('parity'))} |"
        )
    with_spark = [b for b in report["builds"] if b.get("shared_nodes")]
    if with_spark:
        stages = sorted({s for b in with_spark for s in b["shared_nodes"]["stages"]}, key=stage_sort_key)
        lines += ["", "Seconds per stage, DuckDB / Spark, over the nodes both builds ran (sum of dbt node times; "
                  "Spark's two threads overlap, so its sums can exceed its wall time):", "",
                  "| stage | " + " | ".join(b["name"] for b in with_spark) + " |",
                  "|---|" + "---:|" * len(with_spark)]
        for stage in stages:
            cells = []
            for build in with_spark:
                entry = build["shared_nodes"]["stages"].get(stage)
                cells.append(f"{entry['duckdb_seconds']:.1f} / {entry['spark_seconds']:.1f}" if entry else "–")
            lines.append(f"| {stage} | " + " | ".join(cells) + " |")
        for build in with_spark:
            lines += ["", f"Slowest nodes on Spark, {build['name']} (Spark s / DuckDB s): " + "; ".join(
                f"{node_name(n['node'])} {n['spark_seconds']:.1f} / {n['duckdb_seconds']:.1f}"
                for n in build["shared_nodes"]["slowest_on_spark"])]
    return "\n".join(lines) + "\n"


def parity_cell(parity: dict[str, list[str]] | None) -> str:
    """'6 of 6', or the count and the names of the marts that differ ('–' when Spark did not finish)."""
    if parity is None:
        return "–"
    differing = [mart for mart, found in parity.items() if found]
    equal = f"{len(parity) - len(differing)} of {len(parity)}"
    return equal + (f" (differ: {', '.join(differing)})" if differing else "")


def java_version() -> str:
    java = shutil.which("java")
    if java is None:
        return "no java"
    banner = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    return banner.splitlines()[0] if banner else "java"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 10], choices=sorted(SCALES))
    parser.add_argument("--vars", default="{}", help="dbt vars added to every scale's, as a YAML mapping")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--name", default="spark", help="results file stem: <out>/<name>.json and .md")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / ".work")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="stop a build after this many seconds (default 3600); 0 = no limit")
    args = parser.parse_args()
    if spark.spark_dbt() is None or shutil.which("java") is None:
        sys.stderr.write("spark_bench: needs the spark venv (`make spark-install`) and Java 17 "
                         "(apt-get install openjdk-17-jre-headless)\n")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cores": os.cpu_count(), "memory_gib": memory_gib(), "python": platform.python_version(),
                    "platform": platform.platform(), "java": java_version(), "load_average_at_start": load_average()},
        "vars": parse_vars(args.vars), "builds": [],
    }
    out_json, out_md = args.out / f"{args.name}.json", args.out / f"{args.name}.md"
    for scale in args.scales:
        report["builds"].append(bench_scale(scale, report["vars"], args.workdir / f"spark_{scale}x",
                                            args.timeout or None))
        out_json.write_text(json.dumps(report, indent=1) + "\n")
        out_md.write_text(markdown(report))
        print(markdown(report), flush=True)
    print(f"spark_bench: wrote {out_json} and {out_md}")
    ok = all(b["duckdb"]["status"] == "ok" and b.get("spark", {}).get("status") == "ok"
             and not any(b["parity"].values()) for b in report["builds"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
