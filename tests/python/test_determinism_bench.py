"""bench/determinism.py's comparison of two warehouses, on two small DuckDB files (no dbt build)."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np

from dbt_helpers import load_bench_script
from feedlab.sources.kuairec_shaped import KuaiRecShape


def _warehouse(path: Path, mean: float, seconds: float, item: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create table same as select 1 as id, 'a' as name")
        con.execute(f"create table means as select 1 as id, {mean!r}::double as mean")
        con.execute(f"create table rec_svd as select 7 as item_id, {seconds!r}::double as run_seconds")
        con.execute(f"create table ranks as select {item} as item_id")
    return path


def test_compare_separates_identical_timing_float_and_other_differences(tmp_path: Path) -> None:
    bench = load_bench_script("determinism.py")
    first = _warehouse(tmp_path / "a.duckdb", 0.1 + 0.2, 1.0, 3)
    second = _warehouse(tmp_path / "b.duckdb", 0.3, 2.0, 4)
    report = bench.compare(first, second)
    assert report["identical"] == ["same"]
    assert report["timing_only"] == ["rec_svd"]
    assert set(report["differing"]) == {"means", "ranks"}
    relative = report["differing"]["means"]["columns"]["mean"]
    assert relative == abs((0.1 + 0.2) - 0.3) / (0.1 + 0.2) > 0
    assert report["differing"]["ranks"]["columns"] == {"item_id": "INTEGER"}


def test_max_relative_difference_compares_sorted_values() -> None:
    bench = load_bench_script("determinism.py")
    assert bench.max_relative_difference(np.array([2.0, 1.0]), np.array([1.0, 2.0])) == 0.0
    assert bench.max_relative_difference(np.array([1.0, 4.0]), np.array([1.0, 5.0])) == 0.2
    assert bench.max_relative_difference(np.array([1.0]), np.array([1.0, 2.0])) == float("inf")


def test_markdown_lists_differing_columns_or_says_there_are_none(tmp_path: Path) -> None:
    bench = load_bench_script("determinism.py")
    same = _warehouse(tmp_path / "a.duckdb", 0.3, 1.0, 3)
    timed = _warehouse(tmp_path / "b.duckdb", 0.3, 2.0, 3)
    differing = _warehouse(tmp_path / "c.duckdb", 0.1 + 0.2, 1.0, 3)
    header = {"when": "now", "cores": 2, "vars": "{}"}
    quiet = bench.markdown({**header, "comparison": bench.compare(same, timed)})
    assert "Differing only in timing columns: rec_svd." in quiet and "No other table differs" in quiet
    loud = bench.markdown({**header, "comparison": bench.compare(same, differing)})
    assert "| means | 1 | mean | 1.9e-16 |" in loud and "No other table differs" not in loud


def test_build_vars_adds_the_movielens_folder_only_where_it_is_missing(tmp_path: Path) -> None:
    bench = load_bench_script("determinism.py")
    default = json.loads(bench.build_vars("movielens", "", tmp_path))
    assert default == {"movielens_path": str(bench.ROOT.parent / "shared" / "data" / "ml-100k")}
    assert json.loads(bench.build_vars("movielens", "{movielens_path: /data/ml}", tmp_path)) == {
        "movielens_path": "/data/ml"}
    assert json.loads(bench.build_vars("synthetic", "{n_users: 500, seed_compat: true}", tmp_path)) == {
        "n_users": 500, "seed_compat": True}
    assert bench.build_vars("synthetic", "{}", tmp_path) == "{}"
    assert list(tmp_path.iterdir()) == []


def test_build_vars_generates_a_kuairec_shaped_folder_only_where_none_is_named(tmp_path: Path,
                                                                             monkeypatch) -> None:
    bench = load_bench_script("determinism.py")
    assert json.loads(bench.build_vars("kuairec", "{kuairec_path: /data/kuairec}", tmp_path)) == {
        "kuairec_path": "/data/kuairec"}
    assert list(tmp_path.iterdir()) == []
    written = []
    write_folder = bench.bench_run.kuairec_shaped_folder

    def small_folder(workdir: Path) -> tuple[dict, float]:
        written.append(workdir)
        return write_folder(workdir, KuaiRecShape())

    monkeypatch.setattr(bench.bench_run, "kuairec_shaped_folder", small_folder)
    generated = json.loads(bench.build_vars("kuairec", "{n_components: 8}", tmp_path))
    folder = tmp_path / "kuairec_shaped_data"
    assert written == [tmp_path]
    assert generated == {"n_components": 8, "kuairec_path": str(folder), "kuairec_use_big_matrix": True,
                         "kuairec_protocol": "big_to_small"}
    assert sorted(p.name for p in folder.iterdir()) == ["big_matrix.csv", "item_categories.csv", "small_matrix.csv"]
