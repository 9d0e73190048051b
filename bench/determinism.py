"""Are two builds of the same world the same warehouse? Builds one data set twice and compares every table.

Usage: python bench/determinism.py [--dataset synthetic|movielens|kuairec] [--vars '{...}']
                                   [--workdir bench/.work] [--out bench/results] [--name determinism]

The data set is the synthetic world (default: 1x; ``--vars`` for other sizes), MovieLens-100K, read from
``movielens_path`` in ``--vars`` (default: ../shared/data/ml-100k beside the project), or KuaiRec, read from
``kuairec_path`` in ``--vars``; without one, a generated KuaiRec-shaped folder of the real data set's size
(``bench/run.py --kuairec-shaped``'s) built with the data set's own protocol, ``big_to_small``. Each build goes through
``python -m feedlab.build`` (as ``make build``) into its own empty folder. Every base table of
the first warehouse is compared column by column with the second: row count and an order-insensitive checksum
(``sum(hash(column))``). For a floating-point column that differs, the values of both sides are sorted and the
largest relative difference between the i-th values is reported (the size of the disagreement; a tie flipped by it
would show as a differing integer or text column too). Columns that record how long a step took (``run_seconds``,
``fct_model_runs.seconds``) are expected to differ and are listed apart.

Results: bench/results/<name>.json and <name>.md. Exit status 1 when a table differs beyond its timing columns.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402  (bench/run.py)
from feedlab.build import parse_vars  # noqa: E402
from feedlab.policy_io import PYTHON_POLICIES  # noqa: E402

ROOT = bench_run.PROJECT_DIR
TIMING_COLUMNS = {("fct_model_runs", "seconds")} | {
    (f"rec_{name}", "run_seconds") for name in PYTHON_POLICIES}
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def build(dataset: str, dbt_vars: str, folder: Path) -> Path:
    """Build ``dataset``'s warehouse into an empty ``folder``; its path."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cmd = [sys.executable, "-m", "feedlab.build", "--dataset", dataset, "--vars", dbt_vars,
           "--warehouse-dir", str(folder / "warehouse"), "--",
           "--target-path", str(folder / "target"), "--log-path", str(folder / "logs")]
    with open(folder / "build.log", "w") as log:
        if subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit(f"determinism: build into {folder} failed, see {folder / 'build.log'}")
    return folder / "warehouse" / f"{dataset}.duckdb"


def build_vars(dataset: str, dbt_vars: str, workdir: Path) -> str:
    """``dbt_vars`` (YAML) with the data set's folder added when the vars name none: MovieLens' shared copy, or for
    KuaiRec a KuaiRec-shaped folder of the real size written into ``workdir``, with the big_to_small protocol."""
    parsed = parse_vars(dbt_vars)
    if dataset == "movielens" and "movielens_path" not in parsed:
        parsed["movielens_path"] = str(ROOT.parent / "shared" / "data" / "ml-100k")
    if dataset == "kuairec" and "kuairec_path" not in parsed:
        parsed = {**parsed, **bench_run.kuairec_shaped_folder(workdir)[0]}
    return json.dumps(parsed) if parsed else "{}"


def max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a_i - b_i| / max(|a_i|, |b_i|) between the sorted values of two equally long float columns."""
    a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
    if len(a) != len(b):
        return float("inf")
    scale = np.maximum(np.abs(a), np.abs(b))
    nonzero = scale > 0
    return float((np.abs(a - b)[nonzero] / scale[nonzero]).max(initial=0.0))


def compare(first: Path, second: Path) -> dict:
    con = duckdb.connect()
    con.execute(f"attach '{first}' as a (read_only)")
    con.execute(f"attach '{second}' as b (read_only)")
    tables = [row[0] for row in con.execute(
        "select table_name from duckdb_tables() where database_name = 'a' order by table_name").fetchall()]
    report = {"identical": [], "differing": {}, "timing_only": []}
    for table in tables:
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'a' and table_name = ? "
            "order by column_index", [table]).fetchall()
        checksum = "select count(*), " + ", ".join(f'sum(hash("{name}"))' for name, _ in columns)
        left = con.execute(f"{checksum} from a.{table}").fetchone()
        right = con.execute(f"{checksum} from b.{table}").fetchone()
        differing = {name: kind for (name, kind), x, y in zip(columns, left[1:], right[1:]) if x != y}
        untimed = {name: kind for name, kind in differing.items() if (table, name) not in TIMING_COLUMNS}
        if left[0] == right[0] and not differing:
            report["identical"].append(table)
        elif left[0] == right[0] and not untimed:
            report["timing_only"].append(table)
        else:
            report["differing"][table] = {"rows": [left[0], right[0]], "columns": {
                name: _float_difference(con, table, name) if kind in FLOAT_TYPES else kind
                for name, kind in untimed.items()}}
    return report


def _float_difference(con: duckdb.DuckDBPyConnection, table: str, column: str) -> float:
    """max_relative_difference of one float column between the attached warehouses ``a`` and ``b``."""
    values = [con.execute(f'select "{column}" from {side}.{table}').fetchnumpy()[column].astype(np.float64)
              for side in ("a", "b")]
    return max_relative_difference(*values)


def markdown(result: dict) -> str:
    report = result["comparison"]
    lines = ["# Two builds of the same world, compared", "",
             f"Generated by `.venv/bin/python bench/determinism.py` ({result['when']}); {result['cores']} cores; "
             f"data set {result.get('dataset', 'synthetic')}, vars `{result['vars']}`.", "",
             f"Identical: {len(report['identical'])} tables. Differing only in timing columns: "
             f"{', '.join(report['timing_only']) or 'none'}.", "",
             ]
    if not report["differing"]:
        return "\n".join(lines + ["No other table differs: the two warehouses are the same, timing columns aside."]) + "\n"
    lines += ["| table | rows | differing column | largest relative difference (sorted values) or type |",
              "|---|---|---|---|"]
    for table, entry in report["differing"].items():
        for name, value in entry["columns"].items():
            shown = f"{value:.1e}" if isinstance(value, float) else value
            lines.append(f"| {table} | {entry['rows'][0]} | {name} | {shown} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("synthetic", "movielens", "kuairec"), default="synthetic")
    parser.add_argument("--vars", default="{}", help="dbt vars of both builds (default: the 1x world)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", default="determinism", help="results file stem (default: determinism)")
    args = parser.parse_args()
    dbt_vars = build_vars(args.dataset, args.vars, args.workdir)
    first = build(args.dataset, dbt_vars, args.workdir / "determinism_a")
    second = build(args.dataset, dbt_vars, args.workdir / "determinism_b")
    result = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cores": os.cpu_count(), "dataset": args.dataset,
              "vars": dbt_vars,
              "comparison": compare(first, second)}
    bench_run.write_results(args.out, args.name, result, markdown(result))
    if result["comparison"]["differing"]:
        print(f"determinism: {len(result['comparison']['differing'])} tables differ between the two builds",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
