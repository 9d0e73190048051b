"""Parquet exports of the BI marts: ``python -m feedlab.export --warehouse warehouse/synthetic.duckdb --out exports/synthetic/``.

A BI tool that holds a ``.duckdb`` file open blocks ``dbt build`` (one writer per file), so dashboards read Parquet
copies of the marts instead. Each mart present in the warehouse becomes ``<out>/<mart>.parquet``. The export is
atomic per folder as far as a file system allows:

1. the warehouse is opened read-only (a build running elsewhere is never disturbed);
2. every mart is first written to a hidden temporary file in the output folder (``.<mart>.parquet.<random>.tmp``,
   a name no ``*.parquet`` glob matches);
3. only when every mart was written are the temporary files renamed over the published ones with ``os.replace``
   (atomic on POSIX within one folder), so a reader never sees a half-written Parquet file, and a failure part-way
   leaves every previously published file untouched and no temporary file behind.

A BI mart that is absent from the warehouse (``fct_policy_value`` outside the synthetic data set,
``fct_seed_reproduction`` without ``seed_compat``) is skipped, and a stale export of it left by an earlier build
is removed, so the folder always mirrors one warehouse.

The small warehouse helpers here (read-only connection, list of tables, data set name) are shared by
``feedlab.summary`` and ``feedlab.report``.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import duckdb

# The marts a BI dashboard reads (models/exposures.yml lists the same ones).
BI_MARTS: tuple[str, ...] = (
    "fct_ab_results",
    "fct_ab_fairness",
    "fct_offline_metrics",
    "fct_policy_comparisons",
    "fct_fairness",
    "fct_policy_value",
    "fct_seed_reproduction",
    "fct_lorenz_points",
    "fct_metrics_daily",
)


# ---- warehouse helpers (shared with feedlab.summary and feedlab.report) -----------------------------------------

def connect_readonly(warehouse: Path | str) -> duckdb.DuckDBPyConnection:
    """Open a built warehouse read-only; a clear SystemExit when the file does not exist or is locked."""
    path = Path(warehouse)
    if not path.exists():
        raise SystemExit(
            f"feedlab: warehouse {path} does not exist; build it first with `make build` "
            f"(or pass --warehouse warehouse/<dataset>.duckdb)"
        )
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:  # e.g. a dbt build holds the write lock
        raise SystemExit(f"feedlab: cannot open {path} read-only: {exc}") from exc


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views of the warehouse's main schema."""
    rows = con.sql(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_catalog = current_database()"
    ).fetchall()
    return {name for (name,) in rows}


def dataset_name(con: duckdb.DuckDBPyConnection, warehouse: Path | str) -> str:
    """The data set of a warehouse: fct_offline_metrics.dataset when present, else the file name (<dataset>.duckdb)."""
    if "fct_offline_metrics" in existing_tables(con):
        row = con.sql("select min(dataset) from fct_offline_metrics").fetchone()
        if row and row[0]:
            return str(row[0])
    return Path(warehouse).stem


# ---- export ------------------------------------------------------------------------------------------------------

@dataclass
class ExportResult:
    """What one export did: marts written (mart → published path), marts absent, stale files removed."""

    written: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    removed_stale: list[Path] = field(default_factory=list)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_parquet(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> None:
    """Write one mart (every row, ordered by all columns for reproducible files) to ``path`` as Parquet."""
    con.execute(f"copy (select * from {mart} order by all) to {_sql_string(str(path))} (format parquet)")


def export_marts(
    warehouse: Path | str,
    out_dir: Path | str,
    marts: Sequence[str] = BI_MARTS,
) -> ExportResult:
    """Export the ``marts`` present in ``warehouse`` to ``out_dir/<mart>.parquet`` (see the module docstring)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ExportResult()
    staged: list[tuple[Path, Path]] = []  # (temporary file, published path)
    con = connect_readonly(warehouse)
    try:
        present = existing_tables(con)
        for mart in marts:
            if mart not in present:
                result.missing.append(mart)
                continue
            # Not mkstemp: its 0600 mode would survive the rename and hide the file from a BI tool's user.
            tmp = out / f".{mart}.parquet.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            staged.append((tmp, out / f"{mart}.parquet"))
            write_parquet(con, mart, tmp)
        # Every mart is staged: publish (each rename is atomic; nothing was replaced before this point).
        for tmp, published in staged:
            os.replace(tmp, published)
            result.written[published.stem] = published
        for mart in result.missing:
            stale = out / f"{mart}.parquet"
            if stale.exists():
                stale.unlink()
                result.removed_stale.append(stale)
    finally:
        con.close()
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export the BI marts of a feedlab warehouse to Parquet.")
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse/synthetic.duckdb"),
                        help="the built warehouse, warehouse/<dataset>.duckdb (opened read-only)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default exports/<dataset>/, the data set taken from the warehouse)")
    args = parser.parse_args(argv)
    out = args.out
    if out is None:
        con = connect_readonly(args.warehouse)
        try:
            out = Path("exports") / dataset_name(con, args.warehouse)
        finally:
            con.close()
    result = export_marts(args.warehouse, out)
    for mart, path in result.written.items():
        print(f"feedlab: exported {mart} -> {path}")
    for mart in result.missing:
        print(f"feedlab: {mart} is not in {args.warehouse}; not exported")
    for path in result.removed_stale:
        print(f"feedlab: removed stale {path} (its mart is no longer in the warehouse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
