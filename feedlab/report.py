"""One self-contained HTML report of a built warehouse.

``python -m feedlab.report --warehouse warehouse/synthetic.duckdb --out reports/feedlab_report.html``

The page has no external resource at all (inline CSS, no JavaScript, every chart an inline base64 PNG drawn by
matplotlib's Agg backend), so it can be mailed, archived or opened offline. Sections, each an element with a
stable id and a heading:

=====================  ==================================================================================
``ab-results``          forest plot of every experiment's relative lift with its 95 % CI per metric, the
                        results table (absolute and relative lift, Holm p, CUPED) and the SRM checks
``watch-time``          per-user watch time per video in each arm of one experiment (default pop_vs_svd):
                        histogram and box plot, as the seed notebook draws them
``lorenz``              Lorenz curves of creator exposure per policy at feed depth K (default 10), the
                        fairness table and creator fairness per experiment arm
``metric-at-k``         NDCG@K and hit rate@K per policy
``policy-value``        simulated policy value vs the oracle (synthetic data set only)
``seed-reproduction``   the seed notebook's figures recomputed (seed_compat builds) beside the honest A/B
                        estimate of the same two feeds (experiment seed_feeds_online)
=====================  ==================================================================================

A mart that is absent (not built for this data set, or a warehouse built by an older version) turns its section into a
note saying so; the report never fails because of it. The output is deterministic for a given warehouse: no
timestamp, rows and policies in a fixed order, fixed figure sizes and DPI, and PNG metadata without dates.
The warehouse is opened read-only and the HTML written atomically (temporary file, then ``os.replace``).
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from feedlab.export import connect_readonly, dataset_name, existing_tables  # noqa: E402

SECTION_IDS: tuple[str, ...] = (
    "ab-results", "watch-time", "lorenz", "metric-at-k", "policy-value", "seed-reproduction",
)
DEFAULT_EXPERIMENT = "pop_vs_svd"
SEED_HONEST_EXPERIMENT = "seed_feeds_online"
SEED_COMPAT_HINT = "make build VARS='{seed_compat: true}'"
AB_METRIC_ORDER = ("watch_time_per_video", "completion_rate", "engagement", "like_rate", "hit")
DPI = 100

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; margin-top: 2.4rem; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: .85rem; margin: .8rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: right; white-space: nowrap; }
th { background: #f4f4f6; } td.text, th.text { text-align: left; }
tr.significant td { background: #eef7ee; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: #555; }
p.note { background: #fff8e5; border-left: 4px solid #e0a800; padding: .5rem .8rem; }
.side-by-side { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
.side-by-side > div { flex: 1 1 440px; min-width: 0; }
.meta { color: #555; font-size: .9rem; }
code { background: #f4f4f6; padding: 0 .25rem; border-radius: 3px; }
"""


# ---- small rendering helpers ------------------------------------------------------------------------------------

def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, kind: str = "num") -> str:
    """Format one table cell: kind num (4 significant digits), pct (a share as %), p (p-value), int, text."""
    if _is_missing(value):
        return "n/a"
    if kind == "text" or isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{value * 100:+.1f}%"
    if kind == "p":
        if value == 0:
            return "<1e-300"  # underflowed double precision
        return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"
    return f"{value:.4g}"


def html_table(df: pd.DataFrame, kinds: dict[str, str] | None = None, labels: dict[str, str] | None = None,
               row_class: Iterable[str] | None = None) -> str:
    """An HTML table of ``df`` (kinds: column → fmt kind; labels: column → header)."""
    kinds, labels = kinds or {}, labels or {}
    classes = list(row_class) if row_class is not None else [""] * len(df)
    text_cols = {c for c in df.columns if kinds.get(c) == "text" or pd.api.types.is_string_dtype(df[c])}
    head = "".join(
        f'<th class="{"text" if c in text_cols else ""}">{_esc(labels.get(c, c))}</th>' for c in df.columns
    )
    body = []
    for cls, (_, row) in zip(classes, df.iterrows()):
        cells = "".join(
            f'<td class="{"text" if c in text_cols else ""}">{_esc(fmt(row[c], kinds.get(c, "num")))}</td>'
            for c in df.columns
        )
        body.append(f'<tr class="{cls}">{cells}</tr>')
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def note(text: str) -> str:
    """A highlighted paragraph (``text`` is already HTML)."""
    return f'<p class="note">{text}</p>'


def missing_note(mart: str, why: str = "") -> str:
    return note(f"<code>{_esc(mart)}</code> is not in this warehouse{_esc(why)}; this section is empty.")


def figure_html(fig: plt.Figure, alt: str, caption: str, fig_id: str) -> str:
    """Render ``fig`` to an inline PNG ``<figure>`` (and close it)."""
    buffer = io.BytesIO()
    # metadata Software=None: the PNG carries no tool version, so the bytes depend on the data only.
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure id="{_esc(fig_id)}"><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def policy_colors(policies: Iterable[str]) -> dict[str, Any]:
    """One fixed colour per policy (sorted names → tab10/tab20), the same in every chart."""
    names = sorted(set(policies))
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


@dataclass
class Section:
    """One report section: its id, heading and HTML body."""

    id: str
    title: str
    body: list[str] = field(default_factory=list)

    def html(self) -> str:
        return f'<section id="{_esc(self.id)}"><h2>{_esc(self.title)}</h2>{"".join(self.body)}</section>'


# ---- data access ------------------------------------------------------------------------------------------------

class Marts:
    """Read-only access to the marts of one warehouse, aware of which exist."""

    def __init__(self, con, warehouse: Path):
        self.con = con
        self.tables = existing_tables(con)
        self.dataset = dataset_name(con, warehouse)

    def has(self, name: str) -> bool:
        return name in self.tables

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()


# ---- sections ---------------------------------------------------------------------------------------------------

def _metric_order(metrics: Iterable[str]) -> list[str]:
    metrics = list(dict.fromkeys(metrics))
    known = [m for m in AB_METRIC_ORDER if m in metrics]
    return known + sorted(m for m in metrics if m not in AB_METRIC_ORDER)


def forest_plot(results: pd.DataFrame) -> plt.Figure:
    """Relative lift (%) and its 95 % CI per experiment / treatment arm (rows) and metric (panels)."""
    metrics = _metric_order(results["metric"])
    labels = sorted({f"{e} / {a}" for e, a in zip(results["experiment_id"], results["treatment_arm"])})
    y_of = {label: len(labels) - 1 - i for i, label in enumerate(labels)}
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics) + 2.2, 0.42 * len(labels) + 1.4),
                             sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        rows = results[results["metric"] == metric]
        for _, row in rows.iterrows():
            y = y_of[f"{row['experiment_id']} / {row['treatment_arm']}"]
            lift, lo, hi = (row[c] * 100 for c in ("relative_lift", "relative_ci_low", "relative_ci_high"))
            if any(_is_missing(v) or not math.isfinite(v) for v in (lift, lo, hi)):
                ax.text(0, y, "n/a", ha="center", va="center", fontsize=8, color="#888")
                continue
            significant = bool(row.get("is_significant")) if not _is_missing(row.get("is_significant")) else False
            color = "#1a7f37" if significant else "#555555"
            ax.errorbar(lift, y, xerr=[[lift - lo], [hi - lift]], fmt="o", color=color, ecolor=color,
                        capsize=3, markersize=5)
        ax.axvline(0, color="#aa0000", linewidth=0.8, linestyle="--")
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("relative lift vs control (%)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks([y_of[label] for label in labels], labels)
    axes[0][0].set_ylim(-0.7, len(labels) - 0.3)
    fig.suptitle("A/B results: relative lift with 95% CI (green: significant after Holm)", fontsize=11)
    fig.tight_layout()
    return fig


def _truthy(value: Any) -> bool:
    return False if _is_missing(value) else bool(value)


def _interval(value: Any, low: Any, high: Any, kind: str) -> str:
    return f"{fmt(value, kind)} [{fmt(low, kind)}, {fmt(high, kind)}]"


def ab_display_table(results: pd.DataFrame) -> pd.DataFrame:
    """The columns of fct_ab_results a reader needs, intervals as one text cell each (absent columns skipped)."""
    get = lambda col: results[col] if col in results.columns else pd.Series([None] * len(results))  # noqa: E731
    table = pd.DataFrame({
        "experiment": get("experiment_id"),
        "arm": get("treatment_arm"),
        "metric": get("metric"),
        "users (c / t)": [f"{fmt(c, 'int')} / {fmt(t, 'int')}" for c, t in zip(get("n_control"), get("n_treatment"))],
        "mean control": get("mean_control"),
        "mean treatment": get("mean_treatment"),
        "absolute lift [95% CI]": [_interval(v, lo, hi, "num") for v, lo, hi in
                                   zip(get("absolute_lift"), get("absolute_ci_low"), get("absolute_ci_high"))],
        "relative lift [95% CI]": [_interval(v, lo, hi, "pct") for v, lo, hi in
                                   zip(get("relative_lift"), get("relative_ci_low"), get("relative_ci_high"))],
        "p": get("p_value"),
        "p (Holm)": get("p_value_holm"),
        "CUPED lift": get("cuped_lift"),
        "MDE (relative)": get("mde_relative"),
        "significant": get("is_significant"),
    })
    return table.reset_index(drop=True)


def section_ab_results(m: Marts) -> Section:
    s = Section("ab-results", "A/B test results")
    if not m.has("fct_ab_results"):
        s.body.append(missing_note("fct_ab_results"))
        return s
    results = m.df("select * from fct_ab_results order by experiment_id, treatment_arm, metric")
    if results.empty:
        s.body.append(note("<code>fct_ab_results</code> has no rows."))
        return s
    order = {metric: i for i, metric in enumerate(_metric_order(results["metric"]))}
    results = results.assign(_o=results["metric"].map(order)).sort_values(
        ["experiment_id", "treatment_arm", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    s.body.append(
        "<p>Each point is the treatment arm's relative lift over the experiment's control arm with its 95 % "
        "confidence interval (Fieller's; none when the control mean is not significantly different from 0); green "
        "points are significant after Holm's correction across all of the experiment's tests (every treatment arm × "
        "metric). The table gives the absolute lift (Welch interval), the CUPED-adjusted lift (pre-period engagement "
        "as covariate) and the minimum detectable effect at 80 % power.</p>"
    )
    s.body.append(figure_html(forest_plot(results), "Forest plot of relative lift with 95% CI per experiment "
                              "and metric", "Relative lift (%) per experiment / treatment arm and metric.",
                              "fig-forest"))
    s.body.append(html_table(ab_display_table(results), {"experiment": "text", "arm": "text", "metric": "text",
                                                         "users (c / t)": "text", "absolute lift [95% CI]": "text",
                                                         "relative lift [95% CI]": "text", "p": "p",
                                                         "p (Holm)": "p", "MDE (relative)": "pct"},
                             row_class=["significant" if _truthy(v) else "" for v in
                                        results.get("is_significant", [None] * len(results))]))
    s.body.append("<h3>Sample-ratio mismatch</h3>")
    if m.has("fct_srm_checks"):
        srm = m.df("select * from fct_srm_checks order by experiment_id")
        s.body.append(html_table(srm, {"experiment_id": "text", "n_arms": "int", "n_assigned_total": "int",
                                       "n_exposed_total": "int", "p_value_assigned": "p", "p_value_exposed": "p"}))
    else:
        s.body.append(missing_note("fct_srm_checks"))
    return s


def section_watch_time(m: Marts, experiment: str) -> Section:
    s = Section("watch-time", f"Watch time per user: {experiment}")
    if not m.has("fct_ab_user_metrics"):
        s.body.append(missing_note("fct_ab_user_metrics"))
        return s
    users = m.df(
        "select arm, policy, watch_time_per_video from fct_ab_user_metrics "
        "where experiment_id = ? order by arm, user_id", [experiment])
    if users.empty:
        known = [e for (e,) in m.con.sql(
            "select distinct experiment_id from fct_ab_user_metrics order by 1").fetchall()]
        s.body.append(note(f"Experiment <code>{_esc(experiment)}</code> has no users in "
                           f"<code>fct_ab_user_metrics</code>; experiments: {_esc(', '.join(known) or 'none')}."))
        return s
    users = users.dropna(subset=["watch_time_per_video"])
    if users.empty:
        s.body.append(note(f"The <code>{_esc(m.dataset)}</code> data set has no watch time (outcomes are "
                           "replayed clicks); see the hit metric in the A/B results."))
        return s
    arms = sorted(users["arm"].unique(), key=lambda a: (a != "control", a))
    labels = [f"{arm} ({users.loc[users['arm'] == arm, 'policy'].iloc[0]})" for arm in arms]
    values = [users.loc[users["arm"] == arm, "watch_time_per_video"].to_numpy() for arm in arms]
    fig, (ax_hist, ax_box) = plt.subplots(1, 2, figsize=(12, 4.2))
    lo = min(v.min() for v in values)
    hi = max(v.max() for v in values)
    bins = [lo + (hi - lo) * i / 30 for i in range(31)] if hi > lo else 10
    for label, v in zip(labels, values):
        ax_hist.hist(v, bins=bins, alpha=0.55, label=label)
    ax_hist.set_xlabel("watch time per served video (s), per user")
    ax_hist.set_ylabel("users")
    ax_hist.set_title("Distribution per arm")
    ax_hist.legend(fontsize=8)
    ax_box.boxplot(values, tick_labels=labels)
    ax_box.set_ylabel("watch time per served video (s)")
    ax_box.set_title("Box plot per arm")
    fig.tight_layout()
    s.body.append(figure_html(fig, f"Histogram and box plot of per-user watch time per arm of {experiment}",
                              "Each user's mean watch time over the videos served to them (simulated outcomes).",
                              "fig-watch-time"))
    stats = users.groupby("arm")["watch_time_per_video"].agg(["count", "mean", "median", "std"]).reindex(arms)
    stats = stats.reset_index().rename(columns={"count": "users"})
    s.body.append(html_table(stats, {"arm": "text", "users": "int"}))
    return s


def section_lorenz(m: Marts, k: int) -> Section:
    s = Section("lorenz", f"Creator exposure: Lorenz curves at K = {k}")
    if not m.has("fct_lorenz_points"):
        s.body.append(missing_note("fct_lorenz_points"))
        return s
    points = m.df("select policy, point_index, cumulative_creator_share, cumulative_exposure_share "
                  "from fct_lorenz_points where k = ? order by policy, point_index", [k])
    if points.empty:
        levels = [str(v) for (v,) in m.con.sql("select distinct k from fct_lorenz_points order by 1").fetchall()]
        s.body.append(note(f"<code>fct_lorenz_points</code> has no curve at K = {k}; K levels: "
                           f"{_esc(', '.join(levels) or 'none')} (use <code>--k</code>)."))
        return s
    colors = policy_colors(points["policy"])
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="equal exposure")
    for policy, curve in points.groupby("policy", sort=True):
        ax.plot(curve["cumulative_creator_share"], curve["cumulative_exposure_share"], color=colors[policy],
                linewidth=1.6, label=policy)
    ax.set_xlabel("cumulative share of creators (least exposed first)")
    ax.set_ylabel("cumulative share of exposure")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    s.body.append(figure_html(fig, f"Lorenz curves of creator exposure per policy at K={k}",
                              "The further below the diagonal, the more a policy concentrates exposure on few "
                              "creators.", "fig-lorenz"))
    if m.has("fct_fairness"):
        fairness = m.df("select policy, gini_exposed, gini_all_creators, long_tail_share, creator_coverage, "
                        "item_coverage, exposure_entropy from fct_fairness where k = ? order by policy", [k])
        s.body.append(html_table(fairness, {"policy": "text"}))
    else:
        s.body.append(missing_note("fct_fairness"))
    if m.has("fct_ab_fairness"):
        s.body.append("<p>The same figures per experiment arm, over the feeds its users were served "
                      "(<code>fct_ab_fairness</code>):</p>")
        arms = m.df("select experiment_id, arm, policy, gini_exposed, gini_all_creators, long_tail_share, "
                    "creator_coverage, item_coverage from fct_ab_fairness order by experiment_id, arm")
        s.body.append(html_table(arms, {"experiment_id": "text", "arm": "text", "policy": "text"}))
    return s


def section_metric_at_k(m: Marts) -> Section:
    s = Section("metric-at-k", "Offline ranking metrics at K")
    if not m.has("fct_offline_metrics"):
        s.body.append(missing_note("fct_offline_metrics"))
        return s
    metrics = m.df("select policy, k, n_users_evaluated, hit_rate, recall, ndcg, mrr, coverage, "
                   "mean_item_popularity from fct_offline_metrics order by policy, k")
    if metrics.empty:
        s.body.append(note("<code>fct_offline_metrics</code> has no rows."))
        return s
    colors = policy_colors(metrics["policy"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, column, title in zip(axes, ("ndcg", "hit_rate"), ("NDCG@K", "Hit rate@K")):
        for policy, rows in metrics.groupby("policy", sort=True):
            ax.plot(rows["k"], rows[column], marker="o", color=colors[policy], label=policy, linewidth=1.5)
        ax.set_xscale("log")
        ks = sorted(metrics["k"].unique())
        ax.set_xticks(ks, [str(v) for v in ks])
        ax.minorticks_off()
        ax.set_xlabel("K (log scale)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    s.body.append(figure_html(fig, "NDCG and hit rate versus K per policy",
                              "Leave-last-out evaluation over the full catalog, training items excluded.",
                              "fig-metric-at-k"))
    s.body.append(html_table(metrics, {"policy": "text", "k": "int", "n_users_evaluated": "int"}))
    return s


def section_policy_value(m: Marts) -> Section:
    s = Section("policy-value", "Policy value vs the oracle (simulated)")
    if not m.has("fct_policy_value"):
        why = " (it is built on the synthetic data set only)" if m.dataset != "synthetic" else ""
        s.body.append(missing_note("fct_policy_value", why))
        return s
    value = m.df("select policy, n_users, policy_value_s, oracle_value_s, share_of_oracle, "
                 "mean_user_share_of_oracle from fct_policy_value order by policy_value_s desc, policy")
    policies = value[value["policy"] != "oracle"]
    if policies.empty:
        s.body.append(note("<code>fct_policy_value</code> has no policy rows."))
        return s
    oracle = value.loc[value["policy"] == "oracle", "policy_value_s"]
    oracle_value = float(oracle.iloc[0]) if len(oracle) else float(policies["oracle_value_s"].max())
    colors = policy_colors(policies["policy"])
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(policies) + 1.6))
    ordered = policies.iloc[::-1]
    bars = ax.barh(ordered["policy"], ordered["policy_value_s"], color=[colors[p] for p in ordered["policy"]])
    for bar, share in zip(bars, ordered["share_of_oracle"]):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {share * 100:.1f}% of oracle",
                va="center", fontsize=8)
    ax.axvline(oracle_value, color="#aa0000", linestyle="--", linewidth=1.2,
               label=f"oracle {oracle_value:.1f} s")
    ax.set_xlim(0, oracle_value * 1.22)
    ax.set_xlabel("expected watch time of the top-10 feed per user (s)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    s.body.append(figure_html(fig, "Bar chart of each policy's expected watch time against the oracle",
                              "Expected watch time under the world's own response model (closed form), "
                              "against the best possible feed of unseen videos.", "fig-policy-value"))
    s.body.append(html_table(value, {"policy": "text", "n_users": "int", "share_of_oracle": "num",
                                     "mean_user_share_of_oracle": "num"}))
    return s


def section_seed_reproduction(m: Marts) -> Section:
    s = Section("seed-reproduction", "Seed notebook reproduction vs the honest estimate")
    left: list[str] = ["<div>", "<h3>The seed notebook's figures (in-sample)</h3>"]
    if m.has("fct_seed_reproduction"):
        seed = m.df("select figure, seed_value, warehouse_value, matches, note from fct_seed_reproduction "
                    "order by figure")
        left.append(html_table(seed[["figure", "seed_value", "warehouse_value", "matches"]], {"figure": "text"}))
        for text in dict.fromkeys(seed["note"].dropna()):
            left.append(f'<p class="meta">{_esc(text)}</p>')
    else:
        left.append(note(
            "<code>fct_seed_reproduction</code> is not in this warehouse: it is built only for the seed's exact "
            f"world. Build it with <code>{_esc(SEED_COMPAT_HINT)}</code> and render the report again."))
    left.append("</div>")
    right: list[str] = ["<div>", f"<h3>Honest A/B estimate ({_esc(SEED_HONEST_EXPERIMENT)})</h3>"]
    if m.has("fct_ab_results"):
        honest = m.df("select metric, n_control, n_treatment, mean_control, mean_treatment, relative_lift, "
                      "relative_ci_low, relative_ci_high, p_value from fct_ab_results "
                      "where experiment_id = ? order by metric", [SEED_HONEST_EXPERIMENT])
        if honest.empty:
            right.append(note(f"Experiment <code>{_esc(SEED_HONEST_EXPERIMENT)}</code> is not in "
                              "<code>fct_ab_results</code> for this data set."))
        else:
            right.append("<p>The same two feeds (mean-watch-time popularity vs SVD) served to randomised users, "
                         "outcomes simulated by the world's response model on every served video.</p>")
            right.append(html_table(honest, {"metric": "text", "n_control": "int", "n_treatment": "int",
                                             "relative_lift": "pct", "relative_ci_low": "pct",
                                             "relative_ci_high": "pct", "p_value": "p"}))
    else:
        right.append(missing_note("fct_ab_results"))
    right.append("</div>")
    s.body.append(f'<div class="side-by-side">{"".join(left)}{"".join(right)}</div>')
    return s


# ---- the page ---------------------------------------------------------------------------------------------------

def build_sections(m: Marts, experiment: str = DEFAULT_EXPERIMENT, k: int = 10) -> list[Section]:
    return [
        section_ab_results(m),
        section_watch_time(m, experiment),
        section_lorenz(m, k),
        section_metric_at_k(m),
        section_policy_value(m),
        section_seed_reproduction(m),
    ]


def render_html(warehouse: Path | str, experiment: str = DEFAULT_EXPERIMENT, k: int = 10) -> str:
    """The whole report as one HTML string."""
    warehouse = Path(warehouse)
    con = connect_readonly(warehouse)
    try:
        with plt.rc_context({"figure.dpi": DPI, "font.size": 9}):
            m = Marts(con, warehouse)
            sections = build_sections(m, experiment, k)
            dataset = m.dataset
    finally:
        con.close()
    nav = "".join(f'<li><a href="#{_esc(s.id)}">{_esc(s.title)}</a></li>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>feedlab report: {_esc(dataset)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>feedlab report: {_esc(dataset)}</h1>"
        f'<p class="meta">Warehouse <code>{_esc(warehouse.name)}</code>. Built from the marts by '
        "<code>python -m feedlab.report</code>; every figure is embedded, the page loads nothing.</p>"
        f"<nav><ul>{nav}</ul></nav></header><main>"
        + "".join(s.html() for s in sections)
        + "</main></body></html>\n"
    )


def write_report(warehouse: Path | str, out: Path | str, experiment: str = DEFAULT_EXPERIMENT,
                 k: int = 10) -> Path:
    """Render the report and write it atomically to ``out``; returns ``out``."""
    out = Path(out)
    page = render_html(warehouse, experiment, k)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the feedlab HTML report from a built warehouse.")
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse/synthetic.duckdb"),
                        help="the built warehouse, warehouse/<dataset>.duckdb (opened read-only)")
    parser.add_argument("--out", type=Path, default=Path("reports/feedlab_report.html"))
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT,
                        help=f"experiment whose per-user watch time is drawn (default {DEFAULT_EXPERIMENT})")
    parser.add_argument("--k", type=int, default=10, help="feed depth of the Lorenz curves (default 10)")
    args = parser.parse_args(argv)
    out = write_report(args.warehouse, args.out, args.experiment, args.k)
    print(f"feedlab: report written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
