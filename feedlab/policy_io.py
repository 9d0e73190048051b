"""What the python policy models share: turning warehouse tables into the recsys inputs, and policy output back
into the warehouse's shape (the top-K rows plus the run's metadata for fct_model_runs)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from feedlab.errors import FeedlabInputError

#: The python policies: each is ``feedlab.recsys.recommend_<name>`` and the python model ``rec_<name>``, in the order
#: of var python_policies' default (dbt_project.yml). The macro python_policy_models() and the registry seed's tests
#: list them too (dbt reads no Python); tests/python/test_policy_io.py keeps those lists equal to this one.
PYTHON_POLICIES = ("svd", "two_stage_lgbm", "two_tower_mse", "two_tower")

SPLIT_COLUMNS = ("user_id", "item_id", "event_at", "watch_time_s", "rating", "engagement_score", "split")


@dataclass(frozen=True)
class PolicyConfig:
    """Vars a python policy model needs, passed as one JSON config (dbt hands python models only literal keys)."""

    dataset: str
    top_k: int
    params: dict[str, Any]

    @classmethod
    def from_json(cls, text: str) -> "PolicyConfig":
        try:
            raw = json.loads(text)
            return cls(dataset=str(raw.pop("dataset")), top_k=int(raw.pop("top_k")), params=raw)
        except (TypeError, ValueError, KeyError) as exc:
            raise FeedlabInputError(f"config 'policy' must be JSON with dataset, top_k and parameters: {exc}") from None


def train_split(relation: Any) -> pd.DataFrame:
    """The training rows of ``relation`` (``dbt.ref("int_split")``) with only the columns :func:`training_inputs`
    reads, as pandas. The model must call ``dbt.ref`` itself: dbt finds a python model's refs by parsing its source.

    On dbt-duckdb ``dbt.ref()`` is a DuckDBPyRelation: the filter and projection run inside DuckDB, so the test
    rows and unused columns never reach pandas (a fraction of the memory of ``.df()`` on the whole table). Any other
    relation (python models are disabled on Spark) falls back to the whole table; ``training_inputs`` filters the
    split itself either way.
    """
    if hasattr(relation, "project") and hasattr(relation, "df"):
        return relation.filter("split = 'train'").project(", ".join(SPLIT_COLUMNS)).df()
    from feedlab.spark import to_pandas
    return to_pandas(relation)


def training_inputs(split: pd.DataFrame, items: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Training interactions, item features and the users to score.

    Parameters
    ----------
    split : int_split rows (any split); only ``split == 'train'`` rows are used, so no test event reaches a model.
    items : stg_items rows.

    Returns
    -------
    train : (n_train, 5) user_id, item_id, event_at, value, engagement. ``value`` is the watch time where the data
        set has one, else the rating.
    item_features : (n_items, 3) item_id, topic_id, length_s.
    users : (n_users,) sorted ids of users with training rows.
    """
    train = split.loc[split["split"] == "train"]
    value = train["watch_time_s"].where(train["watch_time_s"].notna(), train["rating"])
    frame = pd.DataFrame(
        {
            "user_id": train["user_id"].astype("int64"),
            "item_id": train["item_id"].astype("int64"),
            "event_at": pd.to_datetime(train["event_at"]),
            "value": value.astype("float64"),
            "engagement": train["engagement_score"].astype("float64"),
        }
    ).reset_index(drop=True)
    item_features = pd.DataFrame(
        {
            "item_id": items["item_id"].astype("int64"),
            "topic_id": items["topic_id"].fillna(-1).astype("int64"),
            "length_s": items["item_length_s"].astype("float64"),
        }
    )
    users = pd.Series(sorted(frame["user_id"].unique()), dtype="int64", name="user_id")
    return frame, item_features, users


def with_run_info(recs: pd.DataFrame, info: dict[str, Any], dataset: str) -> pd.DataFrame:
    """The policy's rows plus constant run columns (dataset, rows trained on, seconds, parameters as JSON)."""
    out = recs.copy()
    out["run_dataset"] = dataset
    out["run_rows_trained"] = int(info["rows_trained"])
    out["run_seconds"] = float(info["total_seconds"])
    out["run_parameters"] = json.dumps(info["params"], sort_keys=True)
    return out


def svd_value_for(dataset: str, choice: str) -> str:
    """The SVD matrix cell: ``auto`` is the binary matrix for explicit ratings (PureSVD, the stronger top-N recipe
    on MovieLens) and the mean watch time where the data set has one."""
    if choice == "auto":
        return "binary" if dataset == "movielens" else "value"
    if choice not in ("binary", "value"):
        raise FeedlabInputError(f"var 'svd_value' must be auto, binary or value, got {choice!r}")
    return choice


def lgbm_label_for(dataset: str, choice: str) -> str:
    """The two-stage ranker's label: ``auto`` is ``presence`` for MovieLens (ratings: what a user picked is the
    signal) and ``watch_time`` where the data set logs watch time (synthetic, KuaiRec)."""
    if choice == "auto":
        return "presence" if dataset == "movielens" else "watch_time"
    if choice not in ("presence", "watch_time"):
        raise FeedlabInputError(f"var 'lgbm_label' must be auto, presence or watch_time, got {choice!r}")
    return choice


def run_policy(
    cfg: PolicyConfig,
    split: pd.DataFrame,
    items: pd.DataFrame,
    recommend: Callable[..., tuple[pd.DataFrame, dict[str, Any]]],
    servable: pd.DataFrame | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Train and score one policy on the training split; the rows every python policy model returns.

    ``servable`` (int_servable_items: ``item_id``) restricts the served items; the policy gets it only when it
    leaves out some of ``items``, so a whole catalogue takes the unrestricted path.
    """
    train, item_features, users = training_inputs(split, items)
    restriction = servable_restriction(servable, items)
    recs, info = recommend(train, users, cfg.top_k, items=item_features, servable=restriction, **params)
    return with_run_info(recs, info, cfg.dataset)


def servable_restriction(servable: pd.DataFrame | None, items: pd.DataFrame) -> np.ndarray | None:
    """The servable item ids, shape (n_servable,) int64, or None when they cover every item of ``items``."""
    if servable is None:
        return None
    ids = np.unique(servable["item_id"].to_numpy(dtype=np.int64))
    return None if np.isin(items["item_id"].to_numpy(dtype=np.int64), ids).all() else ids
