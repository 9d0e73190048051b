"""Loaders for the file-based data sets (MovieLens-100K, KuaiRec).

Each loader takes the live DuckDB connection and the folder named by a dbt var, validates the files and returns a
lazy, typed `duckdb.DuckDBPyRelation`; the python models under python_models/sources/ only call them. Every bad
input raises `feedlab.errors.FeedlabInputError` with one line naming the file (full path) and the problem.
"""
from feedlab.sources import kuairec, movielens

__all__ = ["kuairec", "movielens"]
