"""What feedlab.build does around the dbt process: its environment, one build per warehouse at a time (no dbt run:
subprocess.run is replaced)."""
from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from feedlab import build


def test_dbt_runs_with_heap_reuse_unless_the_user_set_malloc(monkeypatch, tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    def fake_run(cmd: list[str], env: dict[str, str], check: bool, pass_fds: tuple) -> subprocess.CompletedProcess:
        seen.update(env)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.delenv("MALLOC_MMAP_MAX_", raising=False)
    assert build.run_dbt(["debug"], tmp_path / "synthetic.duckdb")
    assert seen["MALLOC_ARENA_MAX"] == "4"  # a setting already in the environment wins
    assert seen["MALLOC_MMAP_MAX_"] == build.MALLOC_TUNING["MALLOC_MMAP_MAX_"] == "0"
    assert seen["FEEDLAB_WAREHOUSE"] == str(tmp_path / "synthetic.duckdb")


def test_a_second_build_of_the_same_warehouse_is_refused(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(build, "run_dbt", lambda args, warehouse, **_: pytest.fail("dbt must not start"))
    published = tmp_path / "synthetic.duckdb"
    published.write_bytes(b"the published warehouse")
    lock = tmp_path / ".building" / "synthetic.lock"
    lock.parent.mkdir()
    scratch = tmp_path / ".building" / "synthetic.duckdb"  # the first build's work in progress
    scratch.write_bytes(b"half-built")
    with lock.open("w") as running:  # the first build holds the lock
        running.write("4242")
        running.flush()
        fcntl.flock(running, fcntl.LOCK_EX)
        with pytest.raises(SystemExit, match=r"another build of data set 'synthetic' is running \(started by process 4242"):
            build.build("synthetic", {}, tmp_path)
    assert published.read_bytes() == b"the published warehouse"
    assert scratch.read_bytes() == b"half-built"
    # once it is released, the next build runs (here: dbt fails, so nothing is published)
    monkeypatch.setattr(build, "run_dbt", lambda args, warehouse, **_: False)
    with pytest.raises(SystemExit, match="previous warehouse .* is unchanged"):
        build.build("synthetic", {}, tmp_path)


def test_the_lock_is_held_while_dbt_outlives_the_build_process(monkeypatch, tmp_path: Path) -> None:
    # dbt (here a sleeping child started the way run_dbt starts dbt) keeps running after the process that started
    # it is gone, as when only the parent is killed; while it runs, no second build may start beside it
    orphans: list[subprocess.Popen] = []

    def dbt_that_outlives_its_parent(cmd: list[str], env: dict[str, str], check: bool,
                                     pass_fds: tuple = ()) -> subprocess.CompletedProcess:
        orphans.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=pass_fds))
        return subprocess.CompletedProcess(cmd, 1)

    monkeypatch.setattr(build.subprocess, "run", dbt_that_outlives_its_parent)
    try:
        with pytest.raises(SystemExit, match="nothing was published"):
            build.build("synthetic", {}, tmp_path)  # returns, its own handle on the lock closed
        monkeypatch.setattr(build, "run_dbt", lambda args, warehouse, **_: pytest.fail("dbt must not start"))
        with pytest.raises(SystemExit, match="another build of data set 'synthetic' is running"):
            build.build("synthetic", {}, tmp_path)
    finally:
        for orphan in orphans:
            orphan.kill()
            orphan.wait()
    assert len(orphans) == 1
    monkeypatch.setattr(build, "run_dbt", lambda args, warehouse, **_: False)
    with pytest.raises(SystemExit, match="nothing was published"):  # dbt gone: the next build runs
        build.build("synthetic", {}, tmp_path)


def test_a_failed_build_ends_with_the_bad_input_it_met(monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    results = {"results": [
        {"unique_id": "model.feedlab.ml_ratings", "status": "error",
         "message": "Python model failed:\n  Traceback ...\n  feedlab.errors.FeedlabInputError: /d/u.data: bad "
                    "rating on line 2\n  "},
        {"unique_id": "model.feedlab.ml_users", "status": "success", "message": "OK"},
        {"unique_id": "test.feedlab.not_null_x", "status": "fail", "message": "Got 3 results"},
    ]}

    def dbt_that_fails(args, warehouse, **_):
        (target / "run_results.json").write_text(json.dumps(results))
        return False

    monkeypatch.setattr(build, "run_dbt", dbt_that_fails)
    with pytest.raises(SystemExit) as failed:
        build.build("movielens", {}, tmp_path / "warehouse", ["--target-path", str(target)])
    assert str(failed.value) == ("feedlab: dbt build failed for data set 'movielens': /d/u.data: bad rating on line 2; "
                                 "nothing was published.")
    # results left by an earlier run are not this run's
    assert build.input_errors(target, time.time() + 60) == []


def test_a_failed_hook_ends_the_build_with_its_error(monkeypatch, tmp_path: Path) -> None:
    # dbt writes no run_results.json when an on-run-start hook fails: the cause comes from its JSON-lines log
    def log_line(ts: str, name: str, msg: str) -> str:
        return json.dumps({"info": {"name": name, "level": "error", "ts": ts, "msg": msg}}) + "\n"

    def dbt_that_fails(args, warehouse, **_):
        assert args[args.index("--log-format-file") + 1] == "json"
        log_dir = Path(args[args.index("--log-path") + 1])
        log_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc).isoformat()
        (log_dir / "dbt.log").write_text(
            log_line("2020-01-01T00:00:00Z", "MainEncounteredError", "Encountered an error:\nan earlier run's error")
            + "not json\n"
            + log_line(now, "MainEncounteredError",
                       "Encountered an error:\nCompilation Error in operation feedlab-on-run-start-0 "
                       "(./dbt_project.yml)\n  var 'n_users' must be a whole number >= 2, got -5.\n  \n"
                       "  > in macro whole_number_var (macros/check_vars.sql)"))
        return False

    monkeypatch.setattr(build, "run_dbt", dbt_that_fails)
    monkeypatch.delenv("DBT_LOG_PATH", raising=False)
    with pytest.raises(SystemExit) as failed:
        build.build("synthetic", {}, tmp_path)
    # the message's own full stop is dropped, since the line goes on
    assert str(failed.value) == ("feedlab: dbt build failed for data set 'synthetic': var 'n_users' must be a whole "
                                 "number >= 2, got -5; nothing was published.")
    assert (tmp_path / ".building" / "logs-synthetic" / "dbt.log").is_file()


def test_each_cause_is_said_once(tmp_path: Path) -> None:
    message = "Python model failed:\n  feedlab.errors.FeedlabInputError: var 'start_date' is no date\n"
    (tmp_path / "run_results.json").write_text(json.dumps({"results": [
        {"unique_id": f"model.feedlab.sim_{name}", "status": "error", "message": message} for name in ("a", "b")]}))
    assert build.input_errors(tmp_path, 0) == ["var 'start_date' is no date"]


def test_a_build_reads_only_its_own_artifacts(monkeypatch, tmp_path: Path) -> None:
    # without a --target-path, dbt writes into a folder of this warehouse folder and data set, which the lock covers
    seen: list[list[str]] = []

    def dbt_that_fails(args, warehouse, **_):
        seen.append(list(args))
        return False

    monkeypatch.setattr(build, "run_dbt", dbt_that_fails)
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    with pytest.raises(SystemExit, match="nothing was published"):
        build.build("synthetic", {}, tmp_path)
    args = seen[0]
    assert args[args.index("--target-path") + 1] == str((tmp_path / ".building" / "target-synthetic").resolve())


@pytest.mark.parametrize("text, message", [
    ("{n_users: 300", r"--vars must be a YAML mapping .* got '\{n_users: 300' \(expected ',' or '\}'"),
    ("[1, 2]", "--vars must be a YAML mapping"),
])
def test_bad_vars_text_is_one_line(text: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        build.parse_vars(text)


@pytest.mark.parametrize("dbt_vars, message", [
    ({"n_user": 300}, r"unknown var 'n_user' \(did you mean 'n_users'\?\)"),
    ({"dataset": "movielens"}, r"--vars sets dataset 'movielens' but the build is of data set 'synthetic': choose "
                               r"the data set with --dataset movielens \(make build DATASET=movielens\)"),
])
def test_vars_dbt_would_ignore_are_refused(monkeypatch, tmp_path: Path, dbt_vars: dict, message: str) -> None:
    monkeypatch.setattr(build, "run_dbt", lambda args, warehouse, **_: pytest.fail("dbt must not start"))
    with pytest.raises(SystemExit, match=message):
        build.build("synthetic", dbt_vars, tmp_path)


def test_a_run_that_builds_nothing_publishes_nothing(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(build, "run_dbt", lambda args, warehouse, **_: True)  # e.g. --select matching no node
    with pytest.raises(SystemExit, match="built no warehouse for data set 'synthetic' .*; nothing was published"):
        build.build("synthetic", {}, tmp_path)
    assert not (tmp_path / "synthetic.duckdb").exists()


def test_relations_of_models_no_longer_built_are_dropped(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {
        "model.feedlab.fct_kept": {"resource_type": "model", "schema": "main", "name": "fct_kept", "alias": "fct_kept",
                                   "config": {"materialized": "table"}},
        "model.feedlab.stg_kept": {"resource_type": "model", "schema": "main", "name": "stg_kept", "alias": "stg_kept",
                                   "config": {"materialized": "view"}},
        "seed.feedlab.experiments": {"resource_type": "seed", "schema": "main", "name": "experiments",
                                     "config": {"materialized": "seed"}},
        "test.feedlab.not_null_x": {"resource_type": "test", "schema": "main_dbt_test__audit", "name": "not_null_x",
                                    "config": {"materialized": "test"}},
    }}))
    warehouse = tmp_path / "synthetic.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table fct_kept as select 1 as x; create table experiments as select 1 as x;"
                "create view stg_kept as select * from fct_kept;"
                "create table int_seed_feeds as select 2 as x; create view stg_gone as select * from int_seed_feeds")
    con.close()
    assert build.drop_stale_relations(warehouse, build.project_relations(manifest)) == [
        "main.stg_gone", "main.int_seed_feeds"]
    con = duckdb.connect(str(warehouse), read_only=True)
    assert sorted(con.execute("select table_name from information_schema.tables").fetchall()) == [
        ("experiments",), ("fct_kept",), ("stg_kept",)]
    con.close()


def _dbt_that_logs(as_of_day: int):
    """A stand-in for a successful incremental dbt run: adds the days up to ``as_of_day`` missing from the
    warehouse's table ``log`` and writes a manifest in which ``log`` is a model (so it is no stale relation)."""
    def run(args, warehouse, **_):
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create table if not exists log (day integer)")
            con.execute(f"insert into log select day from range(1, {as_of_day + 1}) as days (day) "
                        "where day not in (select day from log)")
        target = Path(args[args.index("--target-path") + 1])
        target.mkdir(parents=True, exist_ok=True)
        (target / "manifest.json").write_text(json.dumps({"nodes": {"model.feedlab.log": {
            "resource_type": "model", "schema": "main", "name": "log", "config": {"materialized": "incremental"}}}}))
        return True
    return run


def test_a_write_ahead_log_beside_the_published_file_is_folded_in_once(monkeypatch, tmp_path: Path) -> None:
    # a killed in-place `dbt build` leaves day 2 committed in synthetic.duckdb.wal only
    published = tmp_path / "synthetic.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("create table log (day integer); insert into log values (1)")
    with duckdb.connect(str(published)) as con:
        con.execute("pragma disable_checkpoint_on_shutdown; set checkpoint_threshold = '1TB'")
        con.execute("insert into log values (2)")
    assert (tmp_path / "synthetic.duckdb.wal").exists()
    monkeypatch.setattr(build, "run_dbt", _dbt_that_logs(3))
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    build.build("synthetic", {}, tmp_path)
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select day from log order by day").fetchall() == [(1,), (2,), (3,)]


def test_disk_errors_around_dbt_are_one_line_and_say_what_was_published(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(build, "run_dbt", _dbt_that_logs(1))
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    build.build("synthetic", {}, tmp_path)

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build.shutil, "copy2", disk_full)
    with pytest.raises(SystemExit, match=r"could not copy the published warehouse \(\[Errno 28\] No space left on "
                                         r"device\); the previous warehouse .* is unchanged\.$"):
        build.build("synthetic", {}, tmp_path)
    assert not (tmp_path / ".building" / "synthetic.duckdb").exists()

    monkeypatch.undo()
    monkeypatch.setattr(build, "run_dbt", _dbt_that_logs(2))
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    monkeypatch.setattr(build, "export_marts", disk_full)
    with pytest.raises(SystemExit, match="is published, but its Parquet exports were not updated"):
        build.build("synthetic", {}, tmp_path)
    with duckdb.connect(str(tmp_path / "synthetic.duckdb"), read_only=True) as con:
        assert con.execute("select day from log order by day").fetchall() == [(1,), (2,)]
