"""`make bench`: wall time and peak memory of the warehouse builds, per stage, plus the offline metrics they reach.

Usage: python bench/run.py [--scales 1 10 100] [--movielens PATH] [--out bench/results] [--timeout SECONDS]
                           [--exclude NODE ...] [--no-movielens] [--kuairec-shaped]

Each build goes through ``python -m feedlab.build`` (the same atomic build as ``make build``) into a scratch
warehouse folder ``bench/.work/<name>/`` that is emptied first, so every build starts from nothing (no incremental
state is copied from an earlier run).

* Per-node seconds come from dbt's run_results.json (``execution_time``) and are summed per stage; when a build
  fails or is stopped at ``--timeout`` they come from the ``OK ... [OK in 3.21s]`` lines of dbt's console log.
* Peak memory is sampled every 0.2 s: the sum of VmRSS (``/proc/<pid>/status``) over the build process and all its
  descendants (dbt runs in a grandchild). Each sample is charged to the dbt node that was running at that moment
  (the last ``START`` line of dbt's log), which gives a peak per stage. RSS sums count shared pages once per
  process, so the figure is an upper bound on the tree's real footprint; a peak shorter than 0.2 s can be missed.
* ``dbt_overhead`` = wall time minus the sum of node times: dbt start-up, parsing, compilation, the Parquet
  exports and console summary that feedlab.build runs after dbt.
* ``--kuairec-shaped``: also a KuaiRec build at the real data set's size from a generated folder
  (``feedlab.sources.kuairec_shaped.REAL_SIZE``, about 4.7M small- + 9.7M big-matrix rows, written first, untimed)
  with the data set's own protocol (``kuairec_protocol: big_to_small``): a size, not KuaiRec's behaviour, so its
  offline metrics are not reported.

Results: bench/results/bench.json (machine, load, every build) and bench/results/bench.md (tables).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from feedlab.sources.kuairec_shaped import KuaiRecShape

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCALES = {
    1: {},
    10: {"n_users": 30_000, "n_videos": 12_000, "n_creators": 3_000, "n_interactions": 1_800_000},
    # The two-towers train 5 epochs over every interaction: at 100x two_tower's training alone took 1,460 s, over the
    # 15-minute build budget, so they are timed there separately (bench/profile_policy.py --policy two_tower).
    100: {"n_users": 300_000, "n_videos": 120_000, "n_creators": 30_000, "n_interactions": 18_000_000,
          "python_policies": ["svd", "two_stage_lgbm"]},
}
STAGES = (
    ("generation", ("sim_",)),
    ("loading", ("ml_", "kr_")),
    ("staging", ("stg_",)),
    ("intermediate", ("int_engagement", "int_split", "int_item_popularity", "int_user_history", "int_interaction_log",
                      "int_servable_items", "int_catalog_creators")),
    ("policy", ("rec_",)),
    ("evaluation", ("fct_recommendations", "fct_offline", "int_policy_", "fct_policy_comparisons", "fct_model_runs")),
    ("experiments", ("dim_", "fct_exposures", "fct_outcomes", "fct_ab_", "int_ab_", "int_srm", "fct_srm",
                     "fct_seed", "int_seed", "experiments")),
    ("fairness", ("fct_creator_exposure", "fct_fairness", "fct_lorenz", "fct_policy_value")),
    ("feedback", ("fct_metrics_daily",)),
)
STAGE_ORDER = ("generation", "loading", "staging", "intermediate", "policy", "evaluation", "experiments",
               "fairness", "feedback", "tests", "other")
SAMPLE_SECONDS = 0.2
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
# dbt console lines: "12 of 80 START python table model main.rec_svd ..... [RUN]",
# "12 of 80 OK created python table model main.rec_svd ..... [OK in 3.21s]", "START test not_null_... [RUN]".
START_RE = re.compile(r"\d+ of \d+ START (?:(?:sql|python) \S+ model \S+\.(\w+)|test (\w+)|seed file \S+\.(\w+)|unit_test \S+)")
DONE_RE = re.compile(r"\d+ of \d+ (OK|PASS|ERROR|FAIL|WARN|SKIP)\b(.*?)\[\w+ in (\d+(?:\.\d+)?)s\]")
MODEL_RE = re.compile(r"(?:model|seed file) \S+\.(\w+)")


def parse_done(line: str) -> tuple[str, str, float, str] | None:
    """(kind, name, seconds, status) of a dbt 'node finished' console line, else None."""
    done = DONE_RE.search(line)
    if not done:
        return None
    status, middle, seconds = done.groups()
    model = MODEL_RE.search(middle)
    if model:
        return "model", model.group(1), float(seconds), status
    words = middle.split()
    name = words[0] if words else "unknown"
    return ("unit_test" if "::" in name else "test"), name, float(seconds), status


def stage_of(node_name: str, kind: str = "model") -> str:
    """The benchmark stage of a dbt node: a stage name, ``rec_<policy>`` for policies, ``tests`` for tests."""
    if kind in ("test", "unit_test"):
        return "tests"
    for stage, prefixes in STAGES:
        if node_name.startswith(prefixes):
            return node_name if stage == "policy" else stage
    return "other"


def stage_sort_key(stage: str) -> tuple[int, str]:
    """Pipeline order for table rows: policies sit where the policy stage is."""
    base = "policy" if stage.startswith("rec_") else stage
    return (STAGE_ORDER.index(base) if base in STAGE_ORDER else len(STAGE_ORDER), stage)


def process_tree(root: int) -> list[int]:
    """``root`` and all its live descendants (from the ppid field of /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def vm_rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 when it has exited or is a zombie)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over ``root`` and its descendants, in KiB."""
    return sum(vm_rss_kib(pid) for pid in process_tree(root))


class BuildMonitor:
    """Follows one build: tees its console to a log file, tracks the running dbt node and samples tree RSS."""

    def __init__(self, proc: subprocess.Popen, log_file: Path) -> None:
        self.proc = proc
        self.log_file = log_file
        self.current = "startup"
        self.current_since = time.perf_counter()
        self.started_nodes: list[str] = []
        self.done: dict[str, tuple[str, float, str]] = {}  # node -> (kind, seconds, status)
        self.peak_kib = 0
        self.peak_by_node: dict[str, int] = {}
        self.timeline: list[tuple[float, int, str]] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._reader.start()
        self._sampler.start()

    def _read(self) -> None:
        with self.log_file.open("w") as log:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                line = ANSI_RE.sub("", line)
                log.write(line)
                log.flush()
                start = START_RE.search(line)
                if start:
                    name = start.group(1) or start.group(2) or start.group(3) or "unit_test"
                    kind = "test" if start.group(2) else ("unit_test" if name == "unit_test" else "model")
                    self.current = f"{kind}:{name}"
                    self.current_since = time.perf_counter()
                    self.started_nodes.append(self.current)
                    continue
                done = parse_done(line)
                if done:
                    kind, name, seconds, status = done
                    self.done[f"{kind}:{name}"] = (kind, seconds, status)
                    self.current = "between_nodes"

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss_kib(self.proc.pid)
            node = self.current
            self.peak_kib = max(self.peak_kib, rss)
            self.peak_by_node[node] = max(self.peak_by_node.get(node, 0), rss)
            self.timeline.append((round(time.perf_counter() - self._t0, 1), rss, node))
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._sampler.join()
        self._reader.join(timeout=5)


def kill_tree(proc: subprocess.Popen) -> None:
    """Stop the build's whole process group (it was started in its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_monitored(cmd: list[str], console_log: Path, timeout: float | None) -> tuple[str, float, BuildMonitor]:
    """Run ``cmd`` in its own session under a :class:`BuildMonitor` (console copied to ``console_log``), killing
    its process tree after ``timeout`` seconds; returns the status ("ok", "failed (exit N)" or "stopped after
    ..."), the wall seconds and the stopped monitor."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    monitor = BuildMonitor(proc, console_log)
    status = "ok"
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = f"stopped after {timeout:.0f} s timeout"
        kill_tree(proc)
    wall = time.perf_counter() - started
    monitor.stop()
    if status == "ok" and proc.returncode != 0:
        status = f"failed (exit {proc.returncode})"
    return status, wall, monitor


def run_build(dataset: str, dbt_vars: dict, workdir: Path, dbt_args: list[str], timeout: float | None) -> dict:
    """Build one warehouse from nothing in a child process; wall seconds, peak RSS and per-stage seconds/peaks."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    target = workdir / "target"
    cmd = [
        sys.executable, "-m", "feedlab.build", "--dataset", dataset, "--vars", json.dumps(dbt_vars),
        "--warehouse-dir", str(workdir / "warehouse"), "--", "--target-path", str(target),
        "--log-path", str(workdir / "logs"), *dbt_args,
    ]
    load_before = load_average()
    status, wall, monitor = run_monitored(cmd, workdir / "console.log", timeout)

    nodes = dict(monitor.done)
    run_results = target / "run_results.json"
    dbt_elapsed = None
    if run_results.exists():
        parsed = json.loads(run_results.read_text())
        dbt_elapsed = parsed.get("elapsed_time")
        nodes = {}
        for result in parsed["results"]:
            uid = result["unique_id"]
            kind = {"model": "model", "seed": "model", "test": "test", "unit_test": "unit_test"}.get(uid.split(".")[0])
            if kind is None:  # exposures and other no-op nodes
                continue
            name = uid.split(".")[-1] if kind == "model" else uid.split(".", 2)[-1]
            nodes[f"{kind}:{name}"] = (kind, result["execution_time"], result["status"])

    stages: dict[str, dict[str, float]] = {}
    for key, (kind, seconds, _) in nodes.items():
        stage = stage_of(key.split(":", 1)[1], kind)
        entry = stages.setdefault(stage, {"seconds": 0.0, "nodes": 0, "peak_rss_gib": 0.0})
        entry["seconds"] += seconds
        entry["nodes"] += 1
    for node, kib in monitor.peak_by_node.items():
        kind, _, name = node.partition(":")
        stage = stage_of(name, kind) if name else "dbt_overhead"
        entry = stages.setdefault(stage, {"seconds": 0.0, "nodes": 0, "peak_rss_gib": 0.0})
        entry["peak_rss_gib"] = max(entry["peak_rss_gib"], kib / 2**20)
    if status != "ok" and ":" in monitor.current and monitor.current not in nodes:
        # The node that was running when the build stopped: its partial time (a lower bound) goes to its stage.
        kind, name = monitor.current.split(":", 1)
        entry = stages.setdefault(stage_of(name, kind), {"seconds": 0.0, "nodes": 0, "peak_rss_gib": 0.0})
        entry["seconds"] += started + wall - monitor.current_since
    node_seconds = sum(s["seconds"] for k, s in stages.items() if k != "dbt_overhead")
    overhead = stages.setdefault("dbt_overhead", {"seconds": 0.0, "nodes": 0, "peak_rss_gib": 0.0})
    overhead["seconds"] = wall - node_seconds
    unfinished = [n for n in monitor.started_nodes if n not in monitor.done and n not in nodes]
    result: dict[str, Any] = {
        "dataset": dataset,
        "vars": dbt_vars,
        "dbt_args": dbt_args,
        "status": status,
        "wall_seconds": round(wall, 2),
        "dbt_elapsed_seconds": round(dbt_elapsed, 2) if dbt_elapsed else None,
        "peak_rss_gib": round(monitor.peak_kib / 2**20, 2),
        "nodes_done": len(nodes),
        "running_when_stopped": unfinished[-1] if unfinished and status != "ok" else None,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "stages": {
            k: {"seconds": round(v["seconds"], 2), "nodes": v["nodes"], "peak_rss_gib": round(v["peak_rss_gib"], 2)}
            for k, v in sorted(stages.items(), key=lambda kv: stage_sort_key(kv[0]))
        },
        "slowest_nodes": [
            {"node": k, "seconds": round(v[1], 2)} for k, v in sorted(nodes.items(), key=lambda kv: -kv[1][1])[:8]
        ],
        "warehouse": str(workdir / "warehouse" / f"{dataset}.duckdb"),
        "console_log": str(workdir / "console.log"),
    }
    (workdir / "rss_timeline.json").write_text(json.dumps(monitor.timeline))
    if status != "ok":
        sys.stderr.write("".join((workdir / "console.log").read_text().splitlines(keepends=True)[-30:]))
    return result


def kuairec_shaped_folder(workdir: Path, shape: KuaiRecShape | None = None) -> tuple[dict, float]:
    """Write a KuaiRec-shaped folder (``shape``, default the real size) into ``workdir/kuairec_shaped_data``.

    Returns the dbt vars that build it with the data set's own protocol (big_to_small) and the seconds the writing
    took."""
    from feedlab.sources.kuairec_shaped import REAL_SIZE, write_kuairec_shaped

    folder = workdir / "kuairec_shaped_data"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    write_kuairec_shaped(folder, shape or REAL_SIZE)
    dbt_vars = {"kuairec_path": str(folder), "kuairec_use_big_matrix": True, "kuairec_protocol": "big_to_small"}
    return dbt_vars, time.perf_counter() - started


def kuairec_shaped_build(workdir: Path, dbt_args: list[str], timeout: float | None) -> dict:
    """Write a KuaiRec-shaped folder of the real size (untimed), then build it with the big_to_small protocol."""
    from feedlab.sources.kuairec_shaped import REAL_SIZE

    dbt_vars, written = kuairec_shaped_folder(workdir)
    result = run_build("kuairec", dbt_vars, workdir / "kuairec_shaped", dbt_args, timeout)
    if result["status"] == "ok":
        with duckdb.connect(result["warehouse"], read_only=True) as con:
            splits = dict(con.sql("select split, count(*) from int_split group by split").fetchall())
    else:
        splits = {}
    note = (f"generated folder ({REAL_SIZE}) written in {written:.0f} s before the build; "
            f"int_split rows {splits}")
    return {"name": "kuairec-shaped, real size, big_to_small", **result, "note": note}


def offline_metrics(warehouse: str, k: int = 10) -> list[dict]:
    """fct_offline_metrics at cut-off k, one dict per policy."""
    with duckdb.connect(warehouse, read_only=True) as con:
        frame = con.sql(
            f"select policy, hit_rate, ndcg, recall, coverage from fct_offline_metrics where k = {k} order by ndcg desc"
        ).df()
    return frame.round(4).to_dict("records")


def write_results(out: Path, name: str, report: dict, text: str) -> None:
    """``report`` as ``out/<name>.json`` and its markdown ``text`` as ``out/<name>.md``; prints the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / f"{name}.md").write_text(text)
    print(text)


def markdown(report: dict) -> str:
    """bench.md: one summary table of every build, then a per-stage table."""
    machine = report["machine"]
    lines = [
        "# feedlab build benchmarks",
        "",
        f"Machine: {machine['cores']} cores, {machine['memory_gib']} GiB RAM, Python {machine['python']}, "
        f"{machine['platform']}. Run started {report['started']}; load average before the run "
        f"{machine['load_average_at_start']} (other processes shared the machine).",
        "",
        *([f"Merged from separate runs: " + "; ".join(f"{m['file']} (started {m['started']}, load {m['load_average_at_start']})"
                                                     for m in report["merged_from"]), ""]
          if report.get("merged_from") else []),
        "| build | status | wall (s) | dbt elapsed (s) | peak RSS (GiB) | load before → after |",
        "|---|---|---:|---:|---:|---|",
    ]
    for build in report["builds"]:
        lines.append(
            f"| {build['name']} | {build['status']} | {build['wall_seconds']:.1f} | "
            f"{build['dbt_elapsed_seconds'] or '–'} | {build['peak_rss_gib']:.2f} | "
            f"{build['load_average_before'][0]} → {build['load_average_after'][0]} |"
        )
    names = [b["name"] for b in report["builds"]]
    stages = sorted({s for b in report["builds"] for s in b["stages"]}, key=stage_sort_key)
    lines += ["", "Seconds per stage (sum of dbt node times) and peak tree RSS in GiB while the stage ran:", "",
              "| stage | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for stage in stages:
        cells = []
        for build in report["builds"]:
            entry = build["stages"].get(stage)
            cells.append(f"{entry['seconds']:.1f} s / {entry['peak_rss_gib']:.2f}" if entry else "–")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    for build in report["builds"]:
        if build.get("note"):
            lines += ["", f"Note, {build['name']}: {build['note']}"]
        if build.get("running_when_stopped"):
            lines += ["", f"{build['name']}: {build['status']} while {build['running_when_stopped']} was running."]
    for build in report["builds"]:
        if build.get("offline_metrics_at_10"):
            lines += ["", f"Offline metrics at K=10, {build['name']}:", "", "| policy | hit | ndcg | recall | coverage |",
                      "|---|---:|---:|---:|---:|"]
            lines += [f"| {m['policy']} | {m['hit_rate']} | {m['ndcg']} | {m['recall']} | {m['coverage']} |"
                      for m in build["offline_metrics_at_10"]]
    return "\n".join(lines) + "\n"


def memory_gib() -> float:
    with open("/proc/meminfo") as handle:
        return round(int(handle.readline().split()[1]) / 2**20, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 10, 100], choices=sorted(SCALES))
    parser.add_argument("--movielens", type=Path, default=PROJECT_DIR.parent / "shared" / "data" / "ml-100k")
    parser.add_argument("--no-movielens", action="store_true")
    parser.add_argument("--kuairec-shaped", action="store_true",
                        help="also build a generated KuaiRec-shaped folder of the real size (big_to_small protocol)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--name", default="bench", help="results file stem: <out>/<name>.json and .md")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / ".work")
    parser.add_argument("--timeout", type=float, default=1500,
                        help="stop a build after this many seconds (default 1500 = 25 min); 0 = no limit")
    parser.add_argument("--exclude", nargs="*", default=[], help="dbt nodes to leave out (dbt --exclude)")
    parser.add_argument("--vars", default="{}", help="extra dbt vars (JSON) added to every synthetic build")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="instead of building, merge earlier results files' builds into <out>/<name>.json/.md")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        parts = [json.loads(path.read_text()) for path in args.merge]
        merged = {"started": parts[0]["started"], "machine": parts[0]["machine"],
                  "merged_from": [{"file": str(path), "started": part["started"],
                                   "load_average_at_start": part["machine"]["load_average_at_start"]}
                                  for path, part in zip(args.merge, parts)],
                  "builds": [build for part in parts for build in part["builds"]]}
        (args.out / f"{args.name}.json").write_text(json.dumps(merged, indent=1) + "\n")
        (args.out / f"{args.name}.md").write_text(markdown(merged))
        return 0
    dbt_args = ["--exclude", *args.exclude] if args.exclude else []
    timeout = args.timeout or None
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cores": os.cpu_count(), "memory_gib": memory_gib(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_average_at_start": load_average()},
        "builds": [],
    }
    out_json, out_md = args.out / f"{args.name}.json", args.out / f"{args.name}.md"

    def record(result: dict) -> None:
        report["builds"].append(result)
        print(json.dumps(result, indent=1), flush=True)
        out_json.write_text(json.dumps(report, indent=1) + "\n")
        out_md.write_text(markdown(report))

    for scale in args.scales:
        dbt_vars = {**SCALES[scale], **json.loads(args.vars)}
        result = run_build("synthetic", dbt_vars, args.workdir / f"synthetic_{scale}x", dbt_args, timeout)
        record({"name": f"synthetic {scale}×", "scale": scale, **result})
    if not args.no_movielens and (args.movielens / "u.data").exists():
        result = run_build("movielens", {"movielens_path": str(args.movielens)}, args.workdir / "movielens",
                           dbt_args, timeout)
        if result["status"] == "ok":
            result["offline_metrics_at_10"] = offline_metrics(result["warehouse"])
        record({"name": "movielens-100k", **result})
    if args.kuairec_shaped:
        record(kuairec_shaped_build(args.workdir, dbt_args, timeout))
    print(f"bench: wrote {out_json} and {out_md}")
    return 0 if all(b["status"] == "ok" for b in report["builds"]) else 1


if __name__ == "__main__":
    sys.exit(main())
