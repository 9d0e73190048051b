"""Tiny interaction worlds for the feedlab.recsys tests."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from feedlab.recsys import recommend_svd, recommend_two_stage_lgbm, recommend_two_tower, recommend_two_tower_mse

N_TOPICS = 4
ITEMS_PER_TOPIC = 10
USERS_PER_TOPIC = 20
OFF_TOPIC_ITEMS = 3

# Small, fast settings; every policy is run with these in the tests.
POLICIES: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "svd": (recommend_svd, {"n_components": 4}),
    "two_stage_lgbm": (recommend_two_stage_lgbm, {"n_candidates": 20, "n_rounds": 30, "n_components": 4}),
    "two_tower_mse": (recommend_two_tower_mse, {"epochs": 20, "batch_size": 32}),
    "two_tower": (recommend_two_tower, {"epochs": 30, "batch_size": 64, "learning_rate": 1e-2}),
}


def planted_world(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Users in topic groups; each user watched all but one item of its topic (long) and a few others (short).

    Returns the interactions, the items and, per user id, the planted item: the unseen item of the user's topic.
    """
    rng = np.random.default_rng(seed)
    n_items = N_TOPICS * ITEMS_PER_TOPIC
    topic = np.arange(n_items) // ITEMS_PER_TOPIC
    length = rng.integers(20, 60, size=n_items).astype(np.float64)
    rows, planted = [], {}
    for user in range(N_TOPICS * USERS_PER_TOPIC):
        own = np.flatnonzero(topic == user % N_TOPICS)
        missing = rng.choice(own)
        planted[user] = missing
        others = rng.choice(np.flatnonzero(topic != user % N_TOPICS), size=OFF_TOPIC_ITEMS, replace=False)
        for item in own[own != missing]:
            rows.append((user, item, 0.9))
        for item in others:
            rows.append((user, item, 0.1))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "fraction"])
    start = np.datetime64("2025-01-01T00:00:00", "s")
    frame["event_at"] = start + rng.integers(0, 20 * 86_400, size=len(frame)).astype("timedelta64[s]")
    frame["value"] = frame["fraction"] * length[frame["item_id"]]
    frame["engagement"] = frame["fraction"]
    train = frame[["user_id", "item_id", "event_at", "value", "engagement"]].astype(
        {"user_id": np.int64, "item_id": np.int64})
    items = pd.DataFrame({"item_id": np.arange(n_items, dtype=np.int64), "topic_id": topic, "length_s": length})
    return train, items, pd.Series(planted, name="planted")
