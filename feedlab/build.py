"""Build one data set's warehouse atomically: ``python -m feedlab.build --dataset movielens --vars '{...}'``.

dbt writes into a scratch copy of the warehouse file; only a fully successful ``dbt build`` replaces the published
file (an atomic rename), so a failed build leaves the previous warehouse readable and unchanged, and readers that
hold the old file open keep reading it.
"""
from __future__ import annotations

import argparse
import difflib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import duckdb
import yaml

from feedlab.export import export_marts
from feedlab.summary import summarize

DATASETS = ("synthetic", "movielens", "kuairec")
PROJECT_DIR = Path(__file__).resolve().parent.parent
#: glibc malloc settings of the dbt process (variables already set in the environment win): one arena, no mmap for
#: large blocks, no trimming, so that memory a model frees is handed out again from the heap instead of going back
#: to the kernel. The python policies allocate and free GBs of temporaries per chunk of users, and on a VM whose
#: freed pages go back to the host every fresh page costs a host fault: filling 864 MiB takes 0.55 s fresh vs 0.06 s
#: reused on the benchmark machine (bench/micro_recsys.py); 10x rec_two_stage_lgbm under dbt went from 32.3 s to 27.7 s.
MALLOC_TUNING = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 36),
                 "MALLOC_TOP_PAD_": str(1 << 28)}


def warehouse_path(dataset: str, warehouse_dir: Path) -> Path:
    """Where the published warehouse of ``dataset`` lives."""
    return warehouse_dir / f"{dataset}.duckdb"


def parse_vars(text: str) -> dict[str, Any]:
    """dbt-style ``--vars`` (a YAML or JSON mapping) as a dict; an empty string is no vars."""
    try:
        parsed = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SystemExit(f"--vars must be a YAML mapping such as '{{n_users: 500}}', got {text!r} ({problem})") from None
    if not isinstance(parsed, dict):
        raise SystemExit(f"--vars must be a YAML mapping such as '{{n_users: 500}}', got {text!r}")
    return parsed


def check_var_names(dbt_vars: dict[str, Any], dataset: str) -> None:
    """Refuse a var the project does not declare (dbt would ignore a misspelt one and build with the default) and
    a ``dataset`` var that contradicts the data set being built (the build sets that var itself)."""
    declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    unknown = sorted(set(dbt_vars) - set(declared))
    if unknown:
        hints = [f"{name!r} (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(name, declared, 1))
                 else repr(name) for name in unknown]
        raise SystemExit(f"--vars: unknown var {', '.join(hints)}; the vars and their defaults are in "
                         f"{PROJECT_DIR / 'dbt_project.yml'}")
    if "dataset" in dbt_vars and dbt_vars["dataset"] != dataset:
        raise SystemExit(f"--vars sets dataset {dbt_vars['dataset']!r} but the build is of data set {dataset!r}: "
                         f"choose the data set with --dataset {dbt_vars['dataset']} (make build "
                         f"DATASET={dbt_vars['dataset']}), not in --vars")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_with_wal(path: Path) -> None:
    for stale in (path, _wal(path)):
        stale.unlink(missing_ok=True)


def _copy_published(published: Path, scratch: Path) -> None:
    """Copy the published warehouse to the scratch path, first folding in a write-ahead log beside it: a killed
    in-place ``dbt build`` leaves one with committed changes, which the copy would miss and which DuckDB would
    replay onto the file published next (rows twice)."""
    if _wal(published).exists():
        with duckdb.connect(str(published)) as con:
            con.execute("checkpoint")
    shutil.copy2(published, scratch)


def run_dbt(args: Sequence[str], warehouse: Path, inherited_fds: Sequence[int] = ()) -> bool:
    """Run one dbt command against ``warehouse``; True when every node succeeded.

    dbt runs in a child process so that DuckDB has checkpointed and closed the file before it is published
    (dbt-duckdb keeps its connection open for the life of the process). ``inherited_fds`` stay open in the child
    (the build lock, so that it is held for as long as dbt runs).
    """
    dbt = Path(sys.executable).with_name("dbt")
    env = {**MALLOC_TUNING, **os.environ, "FEEDLAB_WAREHOUSE": str(warehouse)}
    cmd = [str(dbt), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    return subprocess.run(cmd, env=env, check=False, pass_fds=tuple(inherited_fds)).returncode == 0


def build(
    dataset: str,
    dbt_vars: dict[str, Any],
    warehouse_dir: Path,
    dbt_args: Sequence[str] = (),
    command: str = "build",
) -> Path:
    """Run ``dbt <command>`` for ``dataset`` into a scratch copy and publish it on success.

    Returns the published warehouse path. Raises SystemExit (naming the untouched warehouse) when dbt fails.
    Unless ``dbt_args`` name a ``--target-path``, dbt's artifacts go to ``.building/target-<dataset>`` beside the
    scratch file: one folder per build the lock allows at a time, so that a build reads its own run_results.json
    and manifest.json, never those of a build of another data set running beside it. Its log file likewise goes to
    ``.building/logs-<dataset>`` unless they name a ``--log-path``, and is written as JSON lines, read back for the
    cause of a failure that left no run results (an error of the on-run-start hooks).
    """
    if dataset not in DATASETS:
        raise SystemExit(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")
    check_var_names(dbt_vars, dataset)
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    published = warehouse_path(dataset, warehouse_dir)
    # Same file name in a hidden folder: DuckDB names the catalog after the file, and dbt's views refer to it.
    scratch = warehouse_dir / ".building" / published.name
    scratch.parent.mkdir(exist_ok=True)
    for flag, env_var, folder in (("--target-path", "DBT_TARGET_PATH", "target"),
                                  ("--log-path", "DBT_LOG_PATH", "logs")):
        if _chosen_path(dbt_args, flag, env_var) is None:
            dbt_args = [*dbt_args, flag, str(scratch.parent.resolve() / f"{folder}-{dataset}")]
    dbt_args = [*dbt_args, "--log-format-file", "json"]
    with _only_build(scratch.with_suffix(".lock"), dataset) as lock_fd:
        return _build_and_publish(dataset, dbt_vars, published, scratch, dbt_args, command, lock_fd)


@contextmanager
def _only_build(lock: Path, dataset: str) -> Iterator[int]:
    """Hold an exclusive lock on ``lock`` for the build and yield its file descriptor: a second build of the same
    warehouse would delete the first one's scratch file under it, so it is refused at once. The dbt child inherits
    the descriptor, so the kernel releases the lock only when both this process and dbt have ended: killing this
    process alone leaves the running dbt guarded."""
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise SystemExit(f"feedlab: another build of data set '{dataset}' is running (started by process "
                             f"{holder}, whose dbt child holds the lock too; lock {lock}); the published warehouse is "
                             f"untouched. Wait for it to finish.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield handle.fileno()


def _build_and_publish(dataset: str, dbt_vars: dict[str, Any], published: Path, scratch: Path,
                       dbt_args: Sequence[str], command: str, lock_fd: int) -> Path:
    _remove_with_wal(scratch)
    if published.exists():
        # Incremental models continue from the published state.
        _step("copy the published warehouse", lambda: _copy_published(published, scratch), scratch,
              f"the previous warehouse {published} is unchanged")
    all_vars = {**dbt_vars, "dataset": dataset}
    dbt_command = [command, "--vars", yaml.safe_dump(all_vars, default_flow_style=True).strip(), *dbt_args]
    started = time.time()
    ok = run_dbt(dbt_command, scratch, inherited_fds=(lock_fd,))
    state = f"the previous warehouse {published} is unchanged" if published.exists() else "nothing was published"
    if not ok:
        _remove_with_wal(scratch)
        causes = "; ".join(cause.rstrip(".") for cause in  # the line goes on after each cause
                           input_errors(_target_dir(dbt_args), started) or dbt_errors(_log_dir(dbt_args), started))
        raise SystemExit(f"feedlab: dbt {command} failed for data set '{dataset}'{': ' + causes if causes else ''}; "
                         f"{state}.")
    manifest = _target_dir(dbt_args) / "manifest.json"
    if not scratch.exists() or not manifest.is_file() or manifest.stat().st_mtime < started:
        _remove_with_wal(scratch)
        raise SystemExit(f"feedlab: dbt {command} {' '.join(dbt_args)} built no warehouse for data set '{dataset}' "
                         f"(nothing selected, or not a command that builds); {state}.")
    dropped = _step("drop stale relations", lambda: drop_stale_relations(scratch, project_relations(manifest)),
                    scratch, state)
    if dropped:
        print(f"feedlab: dropped {', '.join(dropped)}: no model of this build makes them (left by an earlier build "
              f"with other vars)")
    _step("publish", lambda: os.replace(scratch, published), scratch, state)
    try:
        export_marts(published, exports_dir(dataset, published.parent))
    except (OSError, duckdb.Error) as error:
        raise SystemExit(f"feedlab: the warehouse {published} is published, but its Parquet exports were not "
                         f"updated (the previous ones are unchanged): {error}") from None
    return published


def _step(what: str, action: Callable[[], Any], scratch: Path, state: str) -> Any:
    """``action()``; a disk or DuckDB error becomes a one-line SystemExit after removing the scratch copy."""
    try:
        return action()
    except (OSError, duckdb.Error) as error:
        _remove_with_wal(scratch)
        raise SystemExit(f"feedlab: could not {what} ({error}); {state}.") from None


def _chosen_path(dbt_args: Sequence[str], flag: str, env_var: str) -> str | None:
    """The path the caller chose for a dbt ``flag`` (--target-path, --log-path): its last value in ``dbt_args``,
    else the environment variable ``env_var``, else None."""
    args = list(dbt_args)
    chosen = os.environ.get(env_var) or None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            chosen = args[i + 1]
        elif arg.startswith(flag + "="):
            chosen = arg.split("=", 1)[1]
    return chosen


def _target_dir(dbt_args: Sequence[str]) -> Path:
    """Where this dbt run writes its artifacts (run_results.json, manifest.json): the chosen target path, else the
    project's target/ (a relative path is the project's, as dbt reads it)."""
    return PROJECT_DIR / (_chosen_path(dbt_args, "--target-path", "DBT_TARGET_PATH") or "target")


def _log_dir(dbt_args: Sequence[str]) -> Path:
    """Where this dbt run writes dbt.log: the chosen log path, else the project's logs/."""
    return PROJECT_DIR / (_chosen_path(dbt_args, "--log-path", "DBT_LOG_PATH") or "logs")


def project_relations(manifest: Path) -> set[tuple[str, str]]:
    """(schema, name), lower-cased, of every relation the manifest's enabled models, seeds and snapshots materialize
    (an ephemeral model has none)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {
        (node["schema"].lower(), (node.get("alias") or node["name"]).lower())
        for node in nodes
        if node["resource_type"] in ("model", "seed", "snapshot")
        and node.get("config", {}).get("materialized") != "ephemeral"
    }


def drop_stale_relations(warehouse: Path, keep: set[tuple[str, str]]) -> list[str]:
    """Drop every table and view of ``warehouse`` whose (schema, name) is not in ``keep``; returns them as
    ``schema.name``, views first. A build starts from a copy of the published file (incremental models continue
    from it) and dbt never drops the relation of a model it no longer builds: without this, the tables of a model
    disabled since the last build (seed_compat's, a python policy taken out of var python_policies) would stay in
    the warehouse, its exports and the report, beside the tables of another world."""
    con = duckdb.connect(str(warehouse))
    try:
        relations = con.execute(
            "select table_schema, table_name, table_type = 'VIEW' as is_view from information_schema.tables "
            "where table_catalog = current_database() order by is_view desc, table_schema, table_name"
        ).fetchall()
        stale = [(schema, name, is_view) for schema, name, is_view in relations
                 if (schema.lower(), name.lower()) not in keep]
        for schema, name, is_view in stale:
            con.execute(f'drop {"view" if is_view else "table"} "{schema}"."{name}"')
        if stale:
            con.execute("checkpoint")
    finally:
        con.close()
    return [f"{schema}.{name}" for schema, name, _ in stale]


def input_errors(target_dir: Path, since: float) -> list[str]:
    """The bad-input messages (FeedlabInputError: a file, column, row or var named; raised by a loader, or in SQL by
    macro query_error) of the failed nodes in the run_results.json that dbt wrote into ``target_dir`` at or after
    ``since`` (a Unix time), so that the build's last line says what is wrong with the input instead of leaving it
    inside dbt's report. [] when there is none."""
    results = target_dir / "run_results.json"
    if not results.is_file() or results.stat().st_mtime < since:
        return []
    marker = "FeedlabInputError: "
    messages = []
    for result in json.loads(results.read_text()).get("results", []):
        text = result.get("message") or ""
        if result.get("status") in ("error", "fail") and marker in text:
            messages.append(text.rsplit(marker, 1)[1].strip())
    # several models read the same bad file or var: say each cause once
    return list(dict.fromkeys(messages))


def dbt_errors(log_dir: Path, since: float) -> list[str]:
    """The first line of every error that ended a dbt command (event MainEncounteredError, e.g. a var refused by an
    on-run-start hook) in the JSON-lines dbt.log of ``log_dir``, logged at or after ``since`` (a Unix time); dbt
    writes no run_results.json then. [] when there is none, or the log is not JSON."""
    log = log_dir / "dbt.log"
    if not log.is_file() or log.stat().st_mtime < since:
        return []
    messages = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            info = json.loads(line)["info"]
            logged = datetime.fromisoformat(info["ts"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        if info.get("name") == "MainEncounteredError" and logged >= since:
            # "Encountered an error:" / "Compilation Error in operation ..." / the error itself / where it was raised
            lines = [text.strip() for text in info.get("msg", "").splitlines() if text.strip()]
            messages += [text for text in lines if not text.startswith(("Encountered an error", "Compilation Error",
                                                                        "Runtime Error", ">"))][:1]
    return list(dict.fromkeys(messages))


def exports_dir(dataset: str, warehouse_dir: Path) -> Path:
    """Where the Parquet copies of a data set's BI marts land: exports/<dataset>/ beside the warehouse folder."""
    return warehouse_dir.parent / "exports" / dataset


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="synthetic", choices=DATASETS)
    parser.add_argument("--vars", default="", help="dbt vars as a YAML mapping, e.g. '{n_users: 500}'")
    parser.add_argument("--warehouse-dir", type=Path, default=PROJECT_DIR / "warehouse")
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="extra dbt arguments after --")
    args = parser.parse_args(argv)
    extra = [a for a in args.dbt_args if a != "--"]
    published = build(args.dataset, parse_vars(args.vars), args.warehouse_dir, extra)
    print(f"feedlab: published {published}; BI exports in {exports_dir(args.dataset, args.warehouse_dir)}")
    print(summarize(published))
    return 0


if __name__ == "__main__":
    sys.exit(main())
