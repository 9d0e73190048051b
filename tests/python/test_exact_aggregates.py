"""The order-independent float aggregates of macros/exact_aggregates.sql, rendered with Jinja and run on DuckDB.

DuckDB's own avg / var_samp / covar_samp add per-thread partial sums in the order the threads finish, so the last
bits of a result can change from run to run once a group spans several row groups; the macros must not.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
MACROS = jinja2.Environment().from_string((ROOT / "macros" / "exact_aggregates.sql").read_text()).module
N_ROWS = 600_000  # about 5 of DuckDB's 122,880-row groups


def aggregates_sql(relation: str) -> str:
    """Every macro over ``relation`` (g, x, y), one row per group g."""
    return f"""
        select
            g,
            {MACROS.exact_sum('x')} as sum_x,
            {MACROS.exact_avg('x')} as mean_x,
            {MACROS.exact_var_samp('x')} as variance_x,
            {MACROS.exact_stddev_samp('x')} as stddev_x,
            {MACROS.exact_covar_samp('x', 'y')} as covariance
        from {relation}
        group by g
        order by g
    """


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """N_ROWS rows of 3 groups: x (10 % null) with a large mean, y correlated with x (10 % null, elsewhere)."""
    rng = np.random.default_rng(7)
    x = rng.normal(50.0, 12.0, N_ROWS)
    y = 0.3 * x + rng.normal(0.0, 1.0, N_ROWS)
    x[rng.random(N_ROWS) < 0.1] = np.nan
    y[rng.random(N_ROWS) < 0.1] = np.nan
    return pd.DataFrame({"g": rng.integers(0, 3, N_ROWS), "x": x, "y": y})


@pytest.fixture(scope="module")
def con(rows: pd.DataFrame):
    con = duckdb.connect()
    con.execute("set threads = 4")
    con.register("rows_frame", rows)
    # nan in a pandas float column is SQL null once stored
    con.execute("create table forward as select g, x, y from rows_frame")
    con.execute("create table backward as select g, x, y from rows_frame order by random()")
    yield con
    con.close()


def test_results_do_not_depend_on_row_order_or_threads(con):
    forward = con.sql(aggregates_sql("forward")).fetchall()
    runs = [con.sql(aggregates_sql(table)).fetchall() for table in ("forward", "backward") * 3]
    assert all(run == forward for run in runs)


def test_results_match_exact_sums_and_numpy_with_nulls_left_out(con, rows: pd.DataFrame):
    result = con.sql(aggregates_sql("forward")).df().set_index("g")
    for g, group in rows.groupby("g"):
        x = group["x"].dropna().to_numpy()
        paired = group.dropna()
        # every x here is above 2^-8 in magnitude: the fixed-point sum is exact, rounded once as fsum rounds it
        assert result.loc[g, "sum_x"] == math.fsum(x)
        assert result.loc[g, "mean_x"] == math.fsum(x) / len(x)
        np.testing.assert_allclose(result.loc[g, "variance_x"], x.var(ddof=1), rtol=1e-12)
        np.testing.assert_allclose(result.loc[g, "stddev_x"], x.std(ddof=1), rtol=1e-12)
        np.testing.assert_allclose(
            result.loc[g, "covariance"], np.cov(paired["x"], paired["y"], ddof=1)[0, 1], rtol=1e-12)


def test_edge_cases_follow_duckdb_builtins():
    """No value, one value and constant values: the same null / 0 as sum, avg, var_samp, covar_samp."""
    edge_rows = """
        (values (1, null::double, 1.0::double),                          -- no x: every result null
                (2, 3.5, 1.0), (2, null, 2.0),                           -- one x, one pair: second moments null
                (3, 0.1, 0.7), (3, 0.1, 0.2), (3, 0.1, 0.9)              -- constant x: variance and covariance 0
        ) as edge(g, x, y)
    """
    builtins = f"""
        select g, sum(x), avg(x), var_samp(x), stddev_samp(x), covar_samp(x, y)
        from {edge_rows} group by g order by g
    """
    expected = [
        (1, None, None, None, None, None),
        (2, 3.5, 3.5, None, None, None),
        (3, pytest.approx(0.3), pytest.approx(0.1), 0.0, 0.0, 0.0),
    ]
    with duckdb.connect() as con:
        assert con.sql(aggregates_sql(edge_rows)).fetchall() == expected
        assert con.sql(builtins).fetchall() == expected


ORDER_DEPENDENT_AGGREGATE = re.compile(
    r"\b(avg|var_samp|var_pop|variance|stddev_samp|stddev_pop|stddev|covar_samp|covar_pop|corr)\s*\(", re.IGNORECASE)


def test_models_and_macros_use_the_exact_aggregates():
    """No model or macro calls an order-dependent float aggregate (window functions aside: they run in order)."""
    offenders = []
    for path in sorted((ROOT / "models").rglob("*.sql")) + sorted((ROOT / "macros").rglob("*.sql")):
        text = re.sub(r"--[^\n]*", "", re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.DOTALL))
        for match in ORDER_DEPENDENT_AGGREGATE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            if path.name != "exact_aggregates.sql" and " over " not in text[match.start():].split("\n")[0]:
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []
