"""The HTML report (feedlab.report) on the small world, headless Chromium on the written file, and the analyses.

* the report has every section (id + heading) and every chart as a decodable inline PNG, loads nothing external,
  is byte-for-byte deterministic, and turns absent marts into notes;
* headless Chromium renders it without console errors into a non-trivial screenshot (skipped without Chromium,
  except in CI where Chromium is required);
* every analysis in analyses/ compiles with dbt and runs on the small warehouse (and models/exposures.yml parses:
  the compile parses the whole project).
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from dbt_helpers import SMALL_WORLD, copy_warehouse, query, small_bi_warehouse
from feedlab import export, report
from feedlab.build import PROJECT_DIR

FIGURES = {  # figure id -> section id
    "fig-forest": "ab-results",
    "fig-watch-time": "watch-time",
    "fig-lorenz": "lorenz",
    "fig-metric-at-k": "metric-at-k",
    "fig-policy-value": "policy-value",
}
ANALYSES = {  # analysis -> columns its result must have
    "uplift_by_topic": {"experiment_id", "arm", "topic_name", "mean_watch_time_s", "watch_time_lift_s"},
    "top_creators_gaining_exposure": {"creator_id", "baseline_exposures", "personalised_exposures",
                                      "exposure_change"},
    "users_largest_treatment_effect": {"experiment_id", "arm", "user_id", "effect_rank", "excess_change"},
    "metric_at_k_pivot": {"policy", "ndcg_at_10", "hit_rate_at_10", "ndcg_at_100", "coverage_at_100"},
    "daily_engagement_trend": {"event_date", "n_interactions", "mean_engagement", "mean_engagement_7d"},
}
CI_HINT = "apt-get install chromium"


class ReportParser(HTMLParser):
    """Collects sections (id → heading), images (figure id → src), notes and every external-looking reference."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.images: dict[str, tuple[str, str]] = {}  # figure id -> (src, section id)
        self.tags: set[str] = set()
        self.references: list[str] = []
        self.notes: dict[str, list[str]] = {}
        self._section: str | None = None
        self._figure: str | None = None
        self._in_h2 = False
        self._in_note = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        for key in ("src", "href", "srcset", "poster", "data"):
            if a.get(key) is not None:
                self.references.append(a[key] or "")
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section or ""] = ""
        elif tag == "h2" and self._section:
            self._in_h2 = True
        elif tag == "figure":
            self._figure = a.get("id")
        elif tag == "img" and self._figure:
            self.images[self._figure] = (a.get("src") or "", self._section or "")
        elif tag == "p" and "note" in (a.get("class") or "").split():
            self._in_note = True
            self.notes.setdefault(self._section or "", []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None
        elif tag == "h2":
            self._in_h2 = False
        elif tag == "figure":
            self._figure = None
        elif tag == "p":
            self._in_note = False

    def handle_data(self, data: str) -> None:
        if self._in_h2 and self._section:
            self.sections[self._section] += data
        if self._in_note:
            self.notes[self._section or ""][-1] += data


def parse(page: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_bi_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def report_file(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "reports" / "feedlab_report.html"
    done = subprocess.run([sys.executable, "-m", "feedlab.report", "--warehouse", str(warehouse), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


# ---- the HTML ---------------------------------------------------------------------------------------------------

def test_every_section_and_image_is_present(warehouse: Path, report_file: Path) -> None:
    page = report_file.read_text(encoding="utf-8")
    parsed = parse(page)
    assert list(parsed.sections) == list(report.SECTION_IDS)
    assert all(heading.strip() for heading in parsed.sections.values()), parsed.sections
    assert set(parsed.images) == set(FIGURES)
    for figure, (src, section) in parsed.images.items():
        assert section == FIGURES[figure]
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix), figure
        image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix):], validate=True)))
        image.load()
        assert image.format == "PNG" and image.width >= 300 and image.height >= 200, figure
    # The only data-dependent notes of this warehouse: the seed reproduction needs a seed_compat build.
    assert set(parsed.notes) == {"seed-reproduction"}
    assert report.SEED_COMPAT_HINT in parsed.notes["seed-reproduction"][0]
    assert "Honest A/B estimate (seed_feeds_online)" in page
    # creator fairness per arm: the control rows appear in no other table (the A/B table lists treatment arms)
    controls = query(warehouse, "select experiment_id, policy from fct_ab_fairness where arm = 'control'")
    assert controls and all(f'<td class="text">{e}</td><td class="text">control</td><td class="text">{p}</td>' in page
                            for e, p in controls)


def test_report_is_self_contained(report_file: Path) -> None:
    page = report_file.read_text(encoding="utf-8")
    parsed = parse(page)
    assert not parsed.tags & {"script", "link", "iframe", "object", "embed"}
    assert all(ref.startswith(("data:image/png;base64,", "#")) for ref in parsed.references), [
        ref[:60] for ref in parsed.references if not ref.startswith(("data:", "#"))]
    assert "url(" not in page.split("</style>")[0]  # no stylesheet fetches (fonts, images)
    assert "http://" not in page and "https://" not in page


def test_report_is_deterministic(warehouse: Path, report_file: Path) -> None:
    assert report.render_html(warehouse) == report_file.read_text(encoding="utf-8")


def test_absent_marts_become_notes_and_seed_table_shows(warehouse: Path, tmp_path: Path) -> None:
    partial = copy_warehouse(warehouse, tmp_path / "partial")
    with duckdb.connect(str(partial)) as con:
        for mart in ("fct_ab_results", "fct_srm_checks", "fct_lorenz_points", "fct_policy_value"):
            con.execute(f"drop table {mart}")
        con.execute(
            "create table fct_seed_reproduction as select * from (values "
            "('control_watch_time_s', 14.7349, 14.7349, true, 'in-sample'), "
            "('uplift_pct', 51.67, 51.67, true, 'in-sample')) t(figure, seed_value, warehouse_value, matches, note)"
        )
    out = report.write_report(partial, tmp_path / "r.html", experiment="no_such_experiment")
    parsed = parse(out.read_text(encoding="utf-8"))
    assert list(parsed.sections) == list(report.SECTION_IDS)
    assert set(parsed.images) == {"fig-metric-at-k"}
    notes = {section: " ".join(texts) for section, texts in parsed.notes.items()}
    assert "fct_ab_results is not in this warehouse" in notes["ab-results"]
    assert "no_such_experiment" in notes["watch-time"] and "pop_vs_svd" in notes["watch-time"]
    assert "fct_lorenz_points is not in this warehouse" in notes["lorenz"]
    assert "fct_policy_value is not in this warehouse" in notes["policy-value"]
    assert "fct_ab_results is not in this warehouse" in notes["seed-reproduction"]
    page = out.read_text(encoding="utf-8")
    assert "control_watch_time_s" in page and "14.73" in page  # the seed table is rendered
    assert not list(tmp_path.glob(".r.html*"))  # the atomic write left no temp file


# ---- headless Chromium ------------------------------------------------------------------------------------------

CONSOLE = re.compile(r"CONSOLE|Uncaught")


def chromium_or_skip() -> str:
    """The Chromium binary; skip without one, but fail in CI (CI=true), where the report must be checked."""
    for name in (os.environ.get("FEEDLAB_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) if name else None
        if path:
            return path
    message = f"Chromium is not installed: install it with `{CI_HINT}` (Debian/Ubuntu) to run this test"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI requires Chromium for the report test. {message}")
    pytest.skip(message)


def run_headless(binary: str, page: Path, screenshot: Path, profile: Path) -> subprocess.CompletedProcess:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--enable-logging=stderr", "--v=0", f"--screenshot={screenshot}", "--window-size=1280,2000",
           page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def test_report_renders_in_headless_chromium(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    binary = chromium_or_skip()  # before the report fixture, so that a skip costs no build
    report_file: Path = request.getfixturevalue("report_file")

    # Positive control: this Chromium does log console messages to stderr in the form the check looks for,
    # so an empty list for the report below means "no console message", not "logging went elsewhere".
    probe = tmp_path / "probe.html"
    probe.write_text("<!DOCTYPE html><html><body><script>console.error('feedlab-probe');"
                     "throw new Error('feedlab-uncaught');</script></body></html>")
    done = run_headless(binary, probe, tmp_path / "probe.png", tmp_path / "profile-probe")
    assert done.returncode == 0, done.stderr[-2000:]
    probe_lines = console_lines(done.stderr)
    assert any("feedlab-probe" in line for line in probe_lines), done.stderr[-2000:]
    assert any("Uncaught" in line and "feedlab-uncaught" in line for line in probe_lines), done.stderr[-2000:]

    shot = tmp_path / "report.png"
    done = run_headless(binary, report_file, shot, tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_lines(done.stderr) == []
    assert shot.exists() and shot.stat().st_size > 50_000
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    colors = image.getcolors(maxcolors=1_000_000)
    assert colors is not None and len(colors) > 200  # charts and text, not a blank or error page
    white = max(count for count, rgb in colors if rgb == (255, 255, 255)) if any(
        rgb == (255, 255, 255) for _, rgb in colors) else 0
    assert white / (1280 * 2000) < 0.97


# ---- analyses/ (compiled once, run on the small warehouse) ------------------------------------------------------

@pytest.fixture(scope="module")
def compiled_analyses(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dbt compile`` of every analysis against a copy of the small warehouse; returns the target path."""
    tmp = tmp_path_factory.mktemp("analyses")
    scratch = copy_warehouse(warehouse, tmp / "warehouse")  # dbt opens its warehouse read-write
    target = tmp / "target"
    dbt_vars = json.dumps({**SMALL_WORLD, "dataset": "synthetic"})
    cmd = [str(Path(sys.executable).with_name("dbt")), "compile", "--select", "resource_type:analysis",
           "--vars", dbt_vars, "--target-path", str(target), "--log-path", str(tmp / "logs"),
           "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    done = subprocess.run(cmd, env={**os.environ, "FEEDLAB_WAREHOUSE": str(scratch)}, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    return target


def test_docs_generate_works_before_the_first_build(tmp_path: Path) -> None:
    # the README's docs command on a fresh clone: rec_random once queried int_user_history while compiling
    cmd = [str(Path(sys.executable).with_name("dbt")), "docs", "generate", "--target-path", str(tmp_path / "target"),
           "--log-path", str(tmp_path / "logs"), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    done = subprocess.run(cmd, env={**os.environ, "FEEDLAB_WAREHOUSE": str(tmp_path / "synthetic.duckdb")},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert json.loads((tmp_path / "target" / "catalog.json").read_text())["metadata"]["dbt_schema_version"]


def test_analyses_folder_matches_the_tested_list() -> None:
    assert {p.stem for p in (PROJECT_DIR / "analyses").glob("*.sql")} == set(ANALYSES)


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_analysis_compiles_and_runs(name: str, compiled_analyses: Path, warehouse: Path) -> None:
    sql_file = compiled_analyses / "compiled" / "feedlab" / "analyses" / f"{name}.sql"
    sql = sql_file.read_text()
    assert "{{" not in sql and "ref(" not in sql
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = con.sql(sql)
        columns = set(result.columns)
        rows = result.fetchall()
    assert ANALYSES[name] <= columns, columns
    assert rows, f"{name} returned no row on the small world"


def test_exposures_parse_with_their_marts(compiled_analyses: Path) -> None:
    manifest = json.loads((compiled_analyses / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert exposures["feedlab_html_report"]["type"] == "analysis"
    assert exposures["bi_dashboard"]["type"] == "dashboard"
    depends = set(exposures["bi_dashboard"]["depends_on"]["nodes"])
    # the dashboard reads the exported BI marts, less those that exist only in some builds (exposures of their own)
    only_some_builds = {"fct_policy_value", "fct_seed_reproduction"}
    assert depends == {f"model.feedlab.{mart}" for mart in set(export.BI_MARTS) - only_some_builds}
    assert exposures["feedlab_synthetic_panels"]["depends_on"]["nodes"] == ["model.feedlab.fct_policy_value"]
    assert "feedlab_seed_reproduction_panels" not in exposures  # disabled without seed_compat, like its mart
    for exposure in exposures.values():
        assert exposure["owner"]["name"] and exposure["description"] and exposure["url"]


def test_data_set_without_watch_time_gets_a_note(warehouse: Path, tmp_path: Path) -> None:
    """MovieLens' replayed outcomes have no watch time: the watch-time section says so instead of plotting."""
    copy = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(copy)) as con:
        con.execute("update fct_ab_user_metrics set watch_time_per_video = null")
    parsed = parse(report.render_html(copy))
    assert "fig-watch-time" not in parsed.images
    assert "has no watch time" in " ".join(parsed.notes["watch-time"])
