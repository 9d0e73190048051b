"""The `spark` target (dbt-spark, local PySpark session) builds every SQL model, seed and test, and its BI marts equal
the DuckDB build's to 1e-9.

The python models do not run on open-source Spark: a DuckDB build of the small world exports their tables as Parquet
(feedlab.spark.export_python_outputs), and the Spark build reads them as the sources `python_outputs`. Needs the
optional spark venv (`make spark-install`, requirements-spark.txt; `make test` installs it) and Java 17: skipped with
a message without them, except in CI (CI=true), where the parity check must run.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from feedlab import spark
from dbt_helpers import SMALL_WORLD

SCHEMA = "feedlab_parity"


def test_rows_equal_sorts_and_tolerates_rounding() -> None:
    assert spark.rows_equal([(1, "a", 0.1 + 0.2), (0, None, float("nan"))], [(0, None, float("nan")), (1, "a", 0.3)]) == []
    assert spark.rows_equal([(1, 0.3)], [(1, 0.3 + 1e-6)]) != []
    assert spark.rows_equal([(1,)], [(1,), (2,)]) == ["row counts differ: 1 vs 2"]


def test_read_spark_tables_reads_flat_and_partitioned_tables_in_the_columns_asked(tmp_path: Path) -> None:
    # As dbt-spark lays tables out: <dir>/tables/<schema>.db/<table>/, partitions as <column>=<value>/ folders.
    root = tmp_path / "tables" / "s.db"
    root.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"copy (select 1 as a, 'x' as b) to '{root / 'flat'}' (format parquet, per_thread_output)")
        con.execute(f"copy (select * from (values (1, 10.5), (2, 20.5), (2, 21.5)) as t (day, value)) "
                    f"to '{root / 'daily'}' (format parquet, partition_by (day))")
    tables = spark.read_spark_tables(tmp_path, "s", ["flat", "daily"], columns={"daily": ["day", "value"]})
    assert tables["flat"] == [(1, "x")]
    assert sorted(tables["daily"]) == [(1, 10.5), (2, 20.5), (2, 21.5)]  # the partition column where it was asked


def test_parity_problems_names_each_mart_that_differs_or_is_empty(tmp_path: Path) -> None:
    # A DuckDB warehouse with the parity marts and a Spark build's Parquet layout of the same, then one row changed.
    warehouse = tmp_path / "synthetic.duckdb"
    spark_tables = tmp_path / "spark" / "tables" / "s.db"
    spark_tables.mkdir(parents=True)
    rows = "select 1 as k, 0.5::double as v union all select 2, 1.5"
    with duckdb.connect(str(warehouse)) as con:
        for mart in spark.PARITY_MARTS:
            duck_rows = f"select * from ({rows}) where false" if mart == "fct_srm_checks" else rows
            spark_rows = rows.replace("1.5", "1.75") if mart == "fct_fairness" else duck_rows
            con.execute(f"create table {mart} as {duck_rows}")
            con.execute(f"copy ({spark_rows}) to '{spark_tables / mart}' (format parquet, per_thread_output)")
    problems = spark.parity_problems(warehouse, tmp_path / "spark", "s")
    assert list(problems) == list(spark.PARITY_MARTS)
    assert {mart for mart, found in problems.items() if found} == {"fct_fairness", "fct_srm_checks"}
    assert "1.5 vs 1.75" in problems["fct_fairness"][0]
    assert problems["fct_srm_checks"] == ["fct_srm_checks is empty in DuckDB"]


def spark_or_skip() -> None:
    """Skip without the spark venv or Java, but fail in CI (CI=true), where Spark parity must be checked."""
    missing = []
    if spark.spark_dbt() is None:
        missing.append(f"the spark venv {spark.SPARK_VENV} (`make spark-install`)")
    if shutil.which("java") is None:
        missing.append("Java 17 (`apt-get install openjdk-17-jre-headless`)")
    if not missing:
        return
    message = "spark parity needs " + " and ".join(missing)
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI requires the Spark parity test. {message}")
    pytest.skip(message)


def test_spark_build_matches_duckdb(dbt_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spark_or_skip()  # before the DuckDB build, so that a skip costs nothing
    warehouse = dbt_build("synthetic", SMALL_WORLD)
    outputs = tmp_path / "python_outputs"
    exported = spark.export_python_outputs(warehouse, outputs)
    assert {"sim_interactions", "rec_svd", "int_ab_results", "int_srm_checks"} <= set(exported)

    monkeypatch.setenv("FEEDLAB_SPARK_SCHEMA", SCHEMA)
    spark_dir = tmp_path / "spark"
    dbt_vars = yaml.safe_dump({**SMALL_WORLD, "dataset": "synthetic"}, default_flow_style=True).strip()
    proc = spark.run_spark_dbt(
        ["build", "--vars", dbt_vars, "--target-path", str(spark_dir / "target"), "--log-path", str(spark_dir / "logs")],
        outputs, spark_dir, timeout=900,
    )
    summary = [line for line in proc.stdout.splitlines() if not line.startswith("{")]  # Spark logs JSON lines
    assert proc.returncode == 0, "dbt build --target spark failed:\n" + "\n".join(summary[-60:])

    problems = spark.parity_problems(warehouse, spark_dir, SCHEMA)
    assert list(problems) == list(spark.PARITY_MARTS)
    differing = {mart: found for mart, found in problems.items() if found}
    assert not differing, "Spark differs from DuckDB:\n" + "\n".join(
        f"{mart}: " + "\n".join(found) for mart, found in differing.items())
