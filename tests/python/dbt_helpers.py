"""Constants and helpers for tests that build warehouses (imported by name; fixtures live in conftest.py)."""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from feedlab.build import build

# The shared data folder sits beside the checkout; FEEDLAB_ML100K_DIR points elsewhere.
ML100K_DIR = Path(
    os.environ.get("FEEDLAB_ML100K_DIR", Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-100k")
)

# A world small enough that a full dbt build takes seconds.
SMALL_WORLD = {"n_users": 300, "n_videos": 150, "n_creators": 40, "n_interactions": 9000, "n_days": 10}


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Run one read-only query against a built warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


def load_bench_script(filename: str) -> ModuleType:
    """Import a script of bench/ (not a package) as a module, e.g. ``load_bench_script("run.py")``."""
    path = Path(__file__).resolve().parents[2] / "bench" / filename
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SHARED_DIR_NAME = "feedlab_bi_small_world"


def small_bi_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic world with every mart, built once per session (the first module that asks builds it).

    build() publishes only a complete warehouse, so an existing file is a finished build.
    """
    root = tmp_path_factory.getbasetemp() / SHARED_DIR_NAME
    published = root / "warehouse" / "synthetic.duckdb"
    if not published.exists():
        args = ["--target-path", str(root / "target"), "--log-path", str(root / "logs"),
                "--exclude", "resource_type:test", "resource_type:unit_test"]
        build("synthetic", SMALL_WORLD, root / "warehouse", args)
    return published


def copy_warehouse(warehouse: Path, folder: Path) -> Path:
    """A private copy (same file name: DuckDB names the catalog after it) that a test may alter."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(warehouse, folder / warehouse.name))
