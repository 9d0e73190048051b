"""Shared fixtures: dbt builds into temporary folders, never into the user's warehouse/ or target/."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import pytest

from feedlab.build import build

from dbt_helpers import ML100K_DIR


@pytest.fixture
def dbt_build(tmp_path: Path) -> Callable[..., Path]:
    """Build a data set into ``tmp_path/warehouse`` (dbt artefacts under tmp_path too); returns the warehouse path."""

    def run(dataset: str, dbt_vars: dict[str, Any], select: Sequence[str] = ()) -> Path:
        args = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
        if select:
            args += ["--select", *select, "--indirect-selection", "cautious"]
        return build(dataset, dbt_vars, tmp_path / "warehouse", args)

    return run


@pytest.fixture(scope="session")
def ml100k_dir() -> Path:
    """The real MovieLens-100K copy, read in place (never copied into the project)."""
    if not (ML100K_DIR / "u.data").exists():
        pytest.fail(f"MovieLens-100K is expected at {ML100K_DIR} (the shared data folder beside the checkout)")
    return ML100K_DIR
