"""Ad-hoc SQL on a built warehouse, read-only: ``python -m feedlab.query "select ..."`` or ``--file query.sql``.

The duckdb Python package that the venv installs ships no command-line shell; this prints a query's result as a
table the way DuckDB's shell does. The warehouse is opened read-only, so a running build is never blocked, and a
bad query ends in one line naming the problem, not a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import duckdb

from feedlab.export import connect_readonly

DEFAULT_WAREHOUSE = Path("warehouse/synthetic.duckdb")


def query_text(sql: str | None, file: Path | None) -> str:
    """The SQL to run: ``sql`` itself, or the text of ``file`` (e.g. a compiled dbt analysis)."""
    if (sql is None) == (file is None):
        raise SystemExit("feedlab.query: give either a SQL string or --file, not both or neither")
    if file is None:
        return sql
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"feedlab.query: cannot read {file}: {exc.strerror or exc}") from None


def show(warehouse: Path, sql: str, max_rows: int) -> None:
    """Run ``sql`` on ``warehouse`` (read-only) and print the last statement's result, at most ``max_rows`` rows."""
    con = connect_readonly(warehouse)
    try:
        result = con.sql(sql)
        if result is not None:
            result.show(max_rows=max_rows)
    except duckdb.Error as exc:
        raise SystemExit(f"feedlab.query: {type(exc).__name__}: {' '.join(str(exc).split())}") from None
    finally:
        con.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sql", nargs="?", help="the query (omit with --file)")
    parser.add_argument("--file", type=Path, help="read the query from this file")
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    parser.add_argument("--max-rows", type=int, default=40)
    args = parser.parse_args(argv)
    show(args.warehouse, query_text(args.sql, args.file), args.max_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
