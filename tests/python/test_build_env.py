"""The environment feedlab.build gives the dbt process (no dbt run: subprocess.run is replaced)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from feedlab import build


def test_dbt_runs_with_heap_reuse_unless_the_user_set_malloc(monkeypatch, tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    def fake_run(cmd: list[str], env: dict[str, str], check: bool) -> subprocess.CompletedProcess:
        seen.update(env)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.delenv("MALLOC_MMAP_MAX_", raising=False)
    assert build.run_dbt(["debug"], tmp_path / "synthetic.duckdb")
    assert seen["MALLOC_ARENA_MAX"] == "4"  # a setting already in the environment wins
    assert seen["MALLOC_MMAP_MAX_"] == build.MALLOC_TUNING["MALLOC_MMAP_MAX_"] == "0"
    assert seen["FEEDLAB_WAREHOUSE"] == str(tmp_path / "synthetic.duckdb")
