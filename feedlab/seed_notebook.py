"""The seed notebook's Python-only steps, replayed on the seed-compat world, for the warehouse's SQL to analyse.

The seed notebook (``TikTok.ipynb``) generates its world with ``np.random.seed(42)``, then:

1. pivots the interactions into a dense user x video matrix of *mean* watch time (0 where unseen) and fits
   ``TruncatedSVD(n_components=30, random_state=42)`` on it; a user's scores are ``U·Σ·Vᵀ`` of that matrix;
2. control = the 10 videos with the highest mean watch time (one list for everybody), treatment = the user's 10
   highest SVD scores (seen videos included);
3. splits the users 50/50 with ``np.random.shuffle`` -- the only draw from the global RNG after generation (the
   SVD has its own ``random_state``);
4. per user: the mean watch time of the user's logged interactions on a video of the recommended list; group
   means, uplift, Student's t-test; creator exposure, its Gini and long-tail share.

Steps 1 and 3 need Python (sklearn's randomized SVD, the legacy NumPy stream): ``svd_feeds`` computes them for the
python model ``int_seed_svd_feeds``. Everything else is SQL (models/marts/experiments): the control feed
(``int_seed_feeds``), step 4 (``int_seed_reproduction``) and the comparison with the notebook's printed figures
(``fct_seed_reproduction``).
Everything here replays the steps on a ``RandomState`` passed in, never on ``np.random``'s global state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import TruncatedSVD

from feedlab.errors import FeedlabInputError
from feedlab.world import WorldConfig, draw_entities, draw_interactions, legacy_random_state

SVD_COMPONENTS = 30
SVD_RANDOM_STATE = 42
FEED_SIZE = 10
TOP_N_USER = 42

#: Columns of ``svd_feeds``' frame (the python model int_seed_svd_feeds).
SVD_FEED_COLUMNS = ["user_id", "arm", "rank", "video_id"]


@dataclass(frozen=True)
class WatchMatrix:
    """Dense mean-watch-time pivot as pandas ``pivot_table(..., aggfunc="mean", fill_value=0)`` builds it.

    values: (n_users_seen, n_videos_seen) float64; user_ids / video_ids: sorted ids of the rows / columns.
    """

    values: np.ndarray
    user_ids: np.ndarray
    video_ids: np.ndarray


def seed_compat_world(cfg: WorldConfig) -> tuple[pd.DataFrame, np.random.RandomState]:
    """Regenerate the seed-compat interactions and return the legacy RNG where the notebook's global RNG is then.

    Returns (interactions as ``feedlab.world.draw_interactions`` gives them, the advanced ``RandomState``).
    """
    if not cfg.seed_compat:
        raise FeedlabInputError("the seed notebook's analysis needs the seed-compat world (var seed_compat: true)")
    legacy = legacy_random_state(cfg)
    entities = draw_entities(cfg, legacy)
    return draw_interactions(cfg, entities, legacy), legacy


def assert_same_interactions(warehouse: pd.DataFrame, regenerated: pd.DataFrame) -> None:
    """Raise ``FeedlabInputError`` unless the warehouse's interactions are the regenerated ones, row for row.

    Compares interaction_id, user_id, video_id, creator_id exactly and watch_time_s to 1e-12 (relative).
    """
    if len(warehouse) != len(regenerated):
        raise FeedlabInputError(
            f"sim_interactions holds {len(warehouse)} rows, the regenerated seed-compat world {len(regenerated)}"
        )
    left = warehouse.sort_values("interaction_id").reset_index(drop=True)
    right = regenerated.sort_values("interaction_id").reset_index(drop=True)
    for column in ("interaction_id", "user_id", "video_id", "creator_id"):
        differ = np.flatnonzero(left[column].to_numpy(np.int64) != right[column].to_numpy(np.int64))
        if differ.size:
            raise FeedlabInputError(
                f"sim_interactions.{column} differs from the regenerated world at interaction_id "
                f"{int(right['interaction_id'].iloc[differ[0]])}: rebuild sim_interactions with the same vars"
            )
    if not np.allclose(left["watch_time_s"], right["watch_time_s"], rtol=1e-12, atol=0.0):
        raise FeedlabInputError("sim_interactions.watch_time_s differs from the regenerated seed-compat world")


def mean_watch_matrix(interactions: pd.DataFrame) -> WatchMatrix:
    """User x video mean watch time over the ids that occur, 0 where the user never watched the video."""
    user_ids, user_pos = np.unique(interactions["user_id"].to_numpy(np.int64), return_inverse=True)
    video_ids, video_pos = np.unique(interactions["video_id"].to_numpy(np.int64), return_inverse=True)
    shape = (user_ids.size, video_ids.size)
    flat = user_pos * shape[1] + video_pos
    size = shape[0] * shape[1]
    sums = np.bincount(flat, weights=interactions["watch_time_s"].to_numpy(np.float64), minlength=size)
    counts = np.bincount(flat, minlength=size)
    means = np.divide(sums, counts, out=np.zeros(size), where=counts > 0)
    return WatchMatrix(values=means.reshape(shape), user_ids=user_ids, video_ids=video_ids)


def svd_scores(
    matrix: WatchMatrix, n_components: int = SVD_COMPONENTS, random_state: int = SVD_RANDOM_STATE
) -> np.ndarray:
    """(n_users_seen, n_videos_seen) scores ``user_embeddings @ components_`` of sklearn's TruncatedSVD.

    The solver is sklearn's default randomized one with its own seeded ``random_state``, as in the notebook.
    """
    svd = TruncatedSVD(n_components=n_components, random_state=random_state)
    user_embeddings = svd.fit_transform(matrix.values)
    return user_embeddings @ svd.components_


def top_k_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """(n_rows, k) column positions of each row's k highest scores, best first (``argsort()[-k:][::-1]``)."""
    return np.argsort(scores, axis=-1)[..., -k:][..., ::-1]


def split_users(user_ids: np.ndarray, legacy: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle a copy of ``user_ids`` with ``legacy`` (as ``np.random.shuffle``) and cut it in half.

    Returns (control user ids, treatment user ids); control gets ``int(0.5 * n)`` users.
    """
    shuffled = np.array(user_ids, dtype=np.int64, copy=True)
    legacy.shuffle(shuffled)
    cut = int(0.5 * len(shuffled))
    return shuffled[:cut], shuffled[cut:]


def svd_feeds(interactions: pd.DataFrame, legacy: np.random.RandomState) -> pd.DataFrame:
    """Every user's SVD top-``FEED_SIZE`` and the seed's 50/50 arm; ``legacy`` must be the RNG right after generation.

    interactions: one row per view with user_id, video_id, watch_time_s. ``legacy`` is advanced by the split's
    shuffle. Returns one row per user with an interaction x rank (``SVD_FEED_COLUMNS``): user_id, arm ('control' or
    'treatment'), rank (1 = best score; seen videos included, as in the notebook), video_id. Control users' rows
    are their SVD lists too (user 42's top-5 is a seed figure whatever its arm); their served feed is popularity.
    """
    matrix = mean_watch_matrix(interactions)
    if TOP_N_USER not in set(matrix.user_ids.tolist()):
        raise FeedlabInputError(f"user {TOP_N_USER} has no interaction; the seed's top-5 example needs one")
    top = matrix.video_ids[top_k_positions(svd_scores(matrix), FEED_SIZE)]
    _, treatment_users = split_users(matrix.user_ids, legacy)
    n_users = matrix.user_ids.size
    return pd.DataFrame({
        "user_id": np.repeat(matrix.user_ids, FEED_SIZE),
        "arm": np.repeat(np.where(np.isin(matrix.user_ids, treatment_users), "treatment", "control"), FEED_SIZE),
        "rank": np.tile(np.arange(1, FEED_SIZE + 1, dtype=np.int64), n_users),
        "video_id": top.ravel().astype(np.int64),
    }, columns=SVD_FEED_COLUMNS)


def seed_svd_feeds(cfg: WorldConfig, interactions: pd.DataFrame | None = None) -> pd.DataFrame:
    """``svd_feeds`` on the seed-compat world of ``cfg``.

    With ``interactions`` (e.g. the warehouse's sim_interactions) they are checked to equal the regenerated
    world's and used; the split's RNG always comes from the regeneration.
    """
    regenerated, legacy = seed_compat_world(cfg)
    if interactions is None:
        interactions = regenerated
    else:
        assert_same_interactions(interactions, regenerated)
    return svd_feeds(interactions, legacy)
