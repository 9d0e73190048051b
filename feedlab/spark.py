"""The optional `spark` target: export the python models' outputs from a DuckDB build, build on Spark, compare marts.

Open-source Spark (dbt-spark, ``method: session``) runs SQL models, seeds and tests only. Python models are disabled
on that target; their outputs come from a DuckDB build of the same data set and vars, exported as Parquet and read as
the dbt sources ``python_outputs`` (see ``macros/python_output.sql``)::

    python -m feedlab.spark export --warehouse warehouse/synthetic.duckdb --out warehouse/python_outputs/synthetic
    python -m feedlab.spark build --outputs warehouse/python_outputs/synthetic --spark-dir warehouse/spark

dbt-spark and pyspark live in their own venv (``.venv-spark``, ``make spark-install``); this module only shells out
to that venv's ``dbt`` and never imports pyspark, so the default install stays lean.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb
import yaml

from feedlab.build import parse_vars
from feedlab.policy_io import PYTHON_POLICIES

PROJECT_DIR = Path(__file__).resolve().parent.parent
SPARK_VENV = Path(os.environ.get("FEEDLAB_SPARK_VENV", PROJECT_DIR / ".venv-spark"))

#: Every python model whose table SQL models read (through python_output()).
PYTHON_OUTPUTS = (
    "sim_interactions", "sim_videos", "sim_user_preferences", "sim_creators",
    "ml_ratings", "ml_items", "ml_users",
    "kr_interactions", "kr_items",
    *(f"rec_{name}" for name in PYTHON_POLICIES),
    "int_ab_results", "int_srm_checks", "int_seed_svd_feeds", "int_policy_comparisons",
)

#: The BI marts whose Spark build must equal the DuckDB build.
PARITY_MARTS = ("fct_offline_metrics", "fct_fairness", "fct_ab_fairness", "fct_ab_results", "fct_srm_checks",
                "fct_policy_value")


def spark_schema() -> str:
    """The schema the `spark` target builds into (profiles.yml: env FEEDLAB_SPARK_SCHEMA, else 'feedlab')."""
    return os.environ.get("FEEDLAB_SPARK_SCHEMA", "feedlab")


def to_pandas(relation: Any) -> Any:
    """A pandas DataFrame from what ``dbt.ref()`` returns in a python model, on any adapter.

    dbt-duckdb returns a DuckDB relation (``.df()``); dbt-databricks (and any Spark-backed adapter) a Spark
    DataFrame (``.toPandas()``); a pandas DataFrame passes through. Using this at the boundary of a python model
    keeps the library functions pandas-only and the model the same on both engines.
    """
    if hasattr(relation, "toPandas"):
        return relation.toPandas()
    if hasattr(relation, "df"):
        return relation.df()
    return relation


def spark_dbt() -> Path | None:
    """The spark venv's dbt executable, or None when the optional venv is not installed."""
    dbt = SPARK_VENV / "bin" / "dbt"
    return dbt if dbt.exists() and (SPARK_VENV / "bin" / "python").exists() else None


def export_python_outputs(warehouse: Path, out_dir: Path) -> list[str]:
    """Write each python model's table present in ``warehouse`` to ``out_dir/<model>.parquet``; returns the names.

    A data set builds only its own source loaders (and seed_compat only int_seed_svd_feeds): absent tables are
    skipped. Files are written to a temporary name and renamed, so a reader never sees half a file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = {row[0] for row in con.sql("select table_name from information_schema.tables").fetchall()}
        for name in PYTHON_OUTPUTS:
            if name not in present:
                continue
            target = out_dir / f"{name}.parquet"
            scratch = out_dir / f".{name}.parquet.tmp"
            con.sql(f"copy (select * from {name}) to '{scratch}' (format parquet)")
            os.replace(scratch, target)
            written.append(name)
    return written


def run_spark_dbt(
    args: Sequence[str], outputs_dir: Path, spark_dir: Path, *, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args> --target spark`` from the spark venv with the session's files under ``spark_dir``.

    dbt runs with ``spark_dir`` as working directory, so stray Spark / Derby files (derby.log, spark-warehouse)
    land there too, never in the checkout.
    """
    dbt = spark_dbt()
    if dbt is None:
        raise FileNotFoundError(f"no spark venv at {SPARK_VENV}: run `make spark-install`")
    spark_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FEEDLAB_PYTHON_OUTPUTS": str(outputs_dir.resolve()),
        "FEEDLAB_SPARK_DIR": str(spark_dir.resolve()),
    }
    env.pop("FEEDLAB_WAREHOUSE", None)
    cmd = [str(dbt), *args, "--target", "spark", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    return subprocess.run(cmd, env=env, cwd=spark_dir, text=True, capture_output=True, timeout=timeout, check=False)


def read_spark_tables(
    spark_dir: Path, schema: str, tables: Sequence[str], columns: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[tuple]]:
    """Read tables of a finished Spark build straight from their Parquet files (no JVM needed).

    dbt-spark's table materialization writes managed Parquet tables under ``<spark.sql.warehouse.dir>/<schema>.db``;
    a partitioned table (``partition_by``) has one ``<column>=<value>`` folder per partition, and its partition
    columns come last. ``columns`` names, per table, the columns to return in that order (default: all, as stored).
    """
    root = spark_dir / "tables" / f"{schema}.db"
    result = {}
    with duckdb.connect() as con:
        for table in tables:
            selected = ", ".join(f'"{name}"' for name in (columns or {}).get(table, ())) or "*"
            result[table] = con.sql(
                f"select {selected} from read_parquet('{root / table}/**/*.parquet', hive_partitioning = true)"
            ).fetchall()
    return result


def rows_equal(left: Sequence[tuple], right: Sequence[tuple], tol: float = 1e-9) -> list[str]:
    """Differences between two row sets after sorting both; floats compared to ``tol`` (absolute or relative).

    Returns human-readable differences (empty when equal). Null and NaN compare equal to themselves.
    """

    problems: list[str] = []
    if len(left) != len(right):
        problems.append(f"row counts differ: {len(left)} vs {len(right)}")
        return problems
    for i, (a, b) in enumerate(zip(sorted(left, key=_sort_key), sorted(right, key=_sort_key))):
        if len(a) != len(b):
            problems.append(f"row {i}: {len(a)} vs {len(b)} columns")
            continue
        for j, (x, y) in enumerate(zip(a, b)):
            if not _values_equal(x, y, tol):
                problems.append(f"row {i} column {j}: {x!r} vs {y!r}\n  {a}\n  {b}")
                break
        if len(problems) >= 10:
            break
    return problems


def parity_problems(warehouse: Path, spark_dir: Path, schema: str) -> dict[str, list[str]]:
    """PARITY_MARTS of a DuckDB warehouse against a finished Spark build of the same data set and vars.

    Returns, per mart, rows_equal's differences (an empty list where the two builds are equal); a mart with no rows
    in DuckDB counts as a difference too, since two empty tables would prove nothing.
    """
    on_spark = read_spark_tables(spark_dir, schema, PARITY_MARTS)
    problems = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart in PARITY_MARTS:
            duck_rows = con.sql(f"select * from {mart}").fetchall()
            problems[mart] = rows_equal(duck_rows, on_spark[mart]) if duck_rows else [f"{mart} is empty in DuckDB"]
    return problems


def _sort_key(row: tuple) -> tuple:
    # Floats are rounded so that rows differing by rounding noise sort alike on both engines.
    out = []
    for v in row:
        if isinstance(v, Decimal):
            v = float(v)
        if v is None:
            out.append((0, ""))
        elif isinstance(v, float):
            out.append((2, "nan") if math.isnan(v) else (1, round(v, 6)))
        elif isinstance(v, (int, bool)):
            out.append((1, v))
        else:
            out.append((3, str(v)))
    return tuple(out)


def _values_equal(x: Any, y: Any, tol: float) -> bool:
    if x is None or y is None:
        return x is None and y is None
    x, y = (float(v) if isinstance(v, Decimal) else v for v in (x, y))
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not (isinstance(x, bool) or isinstance(y, bool)):
        fx, fy = float(x), float(y)
        if math.isnan(fx) or math.isnan(fy):
            return math.isnan(fx) and math.isnan(fy)
        return abs(fx - fy) <= tol * max(1.0, abs(fx), abs(fy))
    return x == y


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write the python models' tables of a DuckDB warehouse as Parquet")
    export.add_argument("--warehouse", type=Path, required=True)
    export.add_argument("--out", type=Path, required=True)
    build = sub.add_parser("build", help="dbt build --target spark over exported python outputs")
    build.add_argument("--outputs", type=Path, required=True)
    build.add_argument("--spark-dir", type=Path, default=PROJECT_DIR / "warehouse" / "spark")
    build.add_argument("--vars", default="", help="dbt vars as a YAML mapping (the same as the DuckDB build's)")
    args = parser.parse_args(argv)
    if args.command == "export":
        names = export_python_outputs(args.warehouse, args.out)
        print(f"feedlab: exported {', '.join(names)} to {args.out}")
        return 0
    if spark_dbt() is None:
        raise SystemExit(f"feedlab.spark: no spark venv at {SPARK_VENV}: run `make spark-install` (needs Java 17)")
    dbt_vars = parse_vars(args.vars)
    spark_dir = args.spark_dir.resolve()
    proc = run_spark_dbt(
        ["build", "--vars", yaml.safe_dump(dbt_vars, default_flow_style=True).strip(),
         "--target-path", str(spark_dir / "target"), "--log-path", str(spark_dir / "logs")],
        args.outputs, spark_dir,
    )
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
