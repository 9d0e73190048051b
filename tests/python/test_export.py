"""Parquet exports of the BI marts (feedlab.export): every present mart round-trips, the publish is atomic.

The small world is built once per test session and shared with test_report.py and test_summary.py
(``dbt_helpers.small_bi_warehouse``); data tests are excluded from that build, the marts' own tests cover them.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dbt_helpers import copy_warehouse, query, small_bi_warehouse
from feedlab import export

@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_bi_warehouse(tmp_path_factory)


def _read_parquet(path: Path) -> pd.DataFrame:
    with duckdb.connect() as con:
        return con.execute("select * from read_parquet(?)", [str(path)]).df()


def _mart(warehouse: Path, mart: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(f"select * from {mart} order by all").df()


def test_exports_every_present_bi_mart_and_round_trips(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "synthetic"
    result = export.export_marts(warehouse, out)

    present = {name for (name,) in query(warehouse, "select table_name from information_schema.tables")}
    expected = [m for m in export.BI_MARTS if m in present]
    # The small non-seed-compat synthetic world has every BI mart but the seed reproduction.
    assert set(expected) == set(export.BI_MARTS) - {"fct_seed_reproduction"}
    assert list(result.written) == expected
    assert result.missing == ["fct_seed_reproduction"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{m}.parquet" for m in expected)
    for mart in expected:
        pd.testing.assert_frame_equal(_read_parquet(out / f"{mart}.parquet"), _mart(warehouse, mart),
                                      check_exact=True)


def test_failure_midway_keeps_previous_files_and_leaves_no_temp(warehouse: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    export.export_marts(warehouse, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # Make the previous files recognisably different from what a new export would write.
    for name in before:
        (out / name).write_bytes(b"previous " + name.encode())
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real_write = export.write_parquet
    calls: list[str] = []

    def failing_write(con, mart: str, path: Path) -> None:
        calls.append(mart)
        if len(calls) == 3:
            path.write_bytes(b"PAR1 half a file")  # a partial temp file exists when the failure strikes
            raise OSError("disk full (simulated)")
        real_write(con, mart, path)

    monkeypatch.setattr(export, "write_parquet", failing_write)
    with pytest.raises(OSError, match="simulated"):
        export.export_marts(warehouse, out)

    assert len(calls) == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched, and no temp file left behind


def test_successful_export_leaves_no_temp_and_removes_stale_mart(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / "fct_seed_reproduction.parquet"
    stale.write_bytes(b"from an earlier seed_compat build")
    unrelated = out / "notes.txt"
    unrelated.write_text("kept")

    result = export.export_marts(warehouse, out)

    assert result.removed_stale == [stale]
    assert not stale.exists()
    assert unrelated.read_text() == "kept"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_export_tolerates_absent_marts_and_readers(warehouse: Path, tmp_path: Path) -> None:
    partial = copy_warehouse(warehouse, tmp_path / "partial")
    with duckdb.connect(str(partial)) as con:
        con.execute("drop table fct_ab_results")
    out = tmp_path / "out"
    # Another reader holds the warehouse open read-only (as a BI tool or the report would): no conflict.
    with duckdb.connect(str(partial), read_only=True) as reader:
        result = export.export_marts(partial, out)
        assert reader.sql("select count(*) from fct_offline_metrics").fetchone()[0] > 0
    assert "fct_ab_results" in result.missing
    assert not (out / "fct_ab_results.parquet").exists()
    assert (out / "fct_offline_metrics.parquet").exists()


def test_cli_defaults_to_exports_dataset_folder(warehouse: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "feedlab.export", "--warehouse", str(warehouse)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exported fct_ab_results" in done.stdout
    assert "fct_seed_reproduction is not in" in done.stdout
    assert (tmp_path / "exports" / "synthetic" / "fct_offline_metrics.parquet").exists()


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="does not exist"):
        export.export_marts(tmp_path / "nope" / "synthetic.duckdb", tmp_path / "out")
