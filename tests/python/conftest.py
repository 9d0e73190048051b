"""Shared fixtures: dbt builds into temporary folders, never into the user's warehouse/ or target/."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import duckdb
import pytest

from feedlab.build import build

ML100K_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-100k"

# A world small enough that a full dbt build takes seconds.
SMALL_WORLD = {"n_users": 300, "n_videos": 150, "n_creators": 40, "n_interactions": 9000, "n_days": 10}


@pytest.fixture
def dbt_build(tmp_path: Path) -> Callable[..., Path]:
    """Build a data set into ``tmp_path/warehouse`` (dbt artefacts under tmp_path too); returns the warehouse path."""

    def run(dataset: str, dbt_vars: dict[str, Any], select: Sequence[str] = ()) -> Path:
        args = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
        if select:
            args += ["--select", *select, "--indirect-selection", "cautious"]
        return build(dataset, dbt_vars, tmp_path / "warehouse", args)

    return run


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Run one read-only query against a built warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.fixture
def ml100k_dir() -> Path:
    if not (ML100K_DIR / "u.data").exists():
        pytest.fail(f"MovieLens-100K is expected at {ML100K_DIR} (the shared data folder beside the checkout)")
    return ML100K_DIR
