"""Reproduction of the seed notebook's analysis on the seed-compat world.

The seed notebook (``TikTok.ipynb``) generates its world with ``np.random.seed(42)``, then:

1. pivots the interactions into a dense user x video matrix of *mean* watch time (0 where unseen) and fits
   ``TruncatedSVD(n_components=30, random_state=42)`` on it; a user's scores are ``U·Σ·Vᵀ`` of that matrix;
2. control = the 10 videos with the highest mean watch time (one list for everybody), treatment = the user's 10
   highest SVD scores (seen videos included);
3. splits the users 50/50 with ``np.random.shuffle`` -- the only draw from the global RNG after generation (the
   SVD has its own ``random_state``);
4. per user: the mean watch time of the user's logged interactions (every row, repeats included) on a video of
   the recommended list, NaN when there is none; group value = ``nanmean`` over the group's users; uplift in %;
   Student's t-test (``ttest_ind``, equal variances, NaNs omitted);
5. creator exposure = how many recommendation slots each creator's videos got in a group (only creators with at
   least one slot), its Gini and the "long-tail share" = share of slots held by creators strictly below the
   exposure's 0.8 quantile.

Everything here replays those steps on a ``RandomState`` passed in, never on ``np.random``'s global state.
The metric is in-sample and biased (see ``IN_SAMPLE_NOTE``); it is reproduced, not endorsed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import ttest_ind
from sklearn.decomposition import TruncatedSVD

from feedlab.errors import FeedlabInputError
from feedlab.world import WorldConfig, draw_entities, draw_interactions, legacy_random_state

SVD_COMPONENTS = 30
SVD_RANDOM_STATE = 42
FEED_SIZE = 10
TOP_N_USER = 42
TOP_N = 5
LONG_TAIL_QUANTILE = 0.8
SIGNIFICANT_DIGITS = 4

# The notebook's printed outputs (cells 32, 39, 40, 49, 51), at the precision it printed them.
SEED_FIGURES: dict[str, float] = {
    "control_watch_time_s": 14.734923704109082,
    "treatment_watch_time_s": 22.347761777615077,
    "uplift_pct": 51.66526971146125,
    "p_value": 2.4049013695309344e-55,
    "creator_gini_control": 0.0,
    "creator_gini_treatment": 0.5445474074074075,
    "long_tail_share_control": 0.0,
    "long_tail_share_treatment": 0.4592,
    "user_42_svd_top5_rank1": 762.0,
    "user_42_svd_top5_rank2": 293.0,
    "user_42_svd_top5_rank3": 90.0,
    "user_42_svd_top5_rank4": 43.0,
    "user_42_svd_top5_rank5": 781.0,
}

IN_SAMPLE_NOTE = (
    "Seed notebook figure, reproduced as computed there: in-sample and biased. The metric averages the watch time "
    "the user already logged on recommended videos (no new exposure is simulated), the SVD is fit on those same "
    "interactions, popularity ranks by the same watch times, and users without a logged view of any recommended "
    "video drop out. Not an A/B estimate; see the simulated A/B."
)


@dataclass(frozen=True)
class SeedFigures:
    """The seed analysis' figures on one world.

    control_values / treatment_values: (n_group_users,) float64 per-user metric (NaN: no logged view of the feed).
    user_42_top5: the SVD's 5 best video ids for user 42, best first.
    """

    control_watch_time_s: float
    treatment_watch_time_s: float
    uplift_pct: float
    t_statistic: float
    p_value: float
    creator_gini_control: float
    creator_gini_treatment: float
    long_tail_share_control: float
    long_tail_share_treatment: float
    user_42_top5: tuple[int, ...]
    control_values: np.ndarray
    treatment_values: np.ndarray

    def as_dict(self) -> dict[str, float]:
        """The figures keyed as ``SEED_FIGURES`` (top-5 as one entry per rank)."""
        figures = {
            "control_watch_time_s": self.control_watch_time_s,
            "treatment_watch_time_s": self.treatment_watch_time_s,
            "uplift_pct": self.uplift_pct,
            "p_value": self.p_value,
            "creator_gini_control": self.creator_gini_control,
            "creator_gini_treatment": self.creator_gini_treatment,
            "long_tail_share_control": self.long_tail_share_control,
            "long_tail_share_treatment": self.long_tail_share_treatment,
        }
        for rank, video in enumerate(self.user_42_top5, start=1):
            figures[f"user_42_svd_top5_rank{rank}"] = float(video)
        return figures


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


def popularity_top_k(interactions: pd.DataFrame, k: int = FEED_SIZE) -> np.ndarray:
    """(k,) video ids with the highest mean watch time, best first (pandas ``sort_values`` order)."""
    means = interactions.groupby("video_id")["watch_time_s"].mean().sort_values(ascending=False)
    return means.index.to_numpy(np.int64)[:k]


def split_users(user_ids: np.ndarray, legacy: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle a copy of ``user_ids`` with ``legacy`` (as ``np.random.shuffle``) and cut it in half.

    Returns (control user ids, treatment user ids); control gets ``int(0.5 * n)`` users.
    """
    shuffled = np.array(user_ids, dtype=np.int64, copy=True)
    legacy.shuffle(shuffled)
    cut = int(0.5 * len(shuffled))
    return shuffled[:cut], shuffled[cut:]


def watch_time_on_feed(interactions: pd.DataFrame, users: np.ndarray, feeds: np.ndarray) -> np.ndarray:
    """(n_users,) mean logged watch time of each user on the videos of their feed; NaN when none was watched.

    users: (n_users,) ids; feeds: (n_users, k) video ids of each user's feed (row i is users[i]'s feed).
    Every logged interaction counts, repeated views of a video included, as in the notebook.
    """
    position = pd.Series(np.arange(len(users)), index=pd.Index(users, dtype=np.int64))
    rows = position.reindex(interactions["user_id"].to_numpy(np.int64)).to_numpy()
    in_group = ~np.isnan(rows)
    rows = rows[in_group].astype(np.int64)
    videos = interactions["video_id"].to_numpy(np.int64)[in_group]
    watch = interactions["watch_time_s"].to_numpy(np.float64)[in_group]
    on_feed = (feeds[rows] == videos[:, None]).any(axis=1)
    sums = np.bincount(rows[on_feed], weights=watch[on_feed], minlength=len(users))
    counts = np.bincount(rows[on_feed], minlength=len(users))
    return np.divide(sums, counts, out=np.full(len(users), np.nan), where=counts > 0)


def creator_exposure(feeds: np.ndarray, video_creator: pd.Series) -> np.ndarray:
    """Slots per creator over all feeds, for creators with at least one slot, ordered by creator id.

    feeds: (n_users, k) video ids; video_creator: creator id indexed by video id.
    """
    creators = video_creator.reindex(feeds.ravel()).to_numpy(np.int64)
    return pd.Series(creators).value_counts().sort_index().to_numpy(np.int64)


def gini(exposure: np.ndarray) -> float:
    """Gini coefficient of a (n,) non-negative vector, 0 for an all-zero one (the notebook's formula)."""
    x = np.sort(np.asarray(exposure, dtype=np.float64))
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * total) - (n + 1) / n)


def long_tail_share(exposure: np.ndarray, quantile: float = LONG_TAIL_QUANTILE) -> float:
    """Share of slots held by creators strictly below the exposure's ``quantile`` (linear interpolation)."""
    x = np.asarray(exposure, dtype=np.float64)
    threshold = np.quantile(x, quantile)
    return float(x[x < threshold].sum() / x.sum())


def analyse(interactions: pd.DataFrame, legacy: np.random.RandomState) -> SeedFigures:
    """Run the seed notebook's analysis on ``interactions``; ``legacy`` must be the RNG right after generation.

    interactions: one row per view with user_id, video_id, creator_id, watch_time_s. ``legacy`` is advanced by
    the split's shuffle.
    """
    matrix = mean_watch_matrix(interactions)
    scores = svd_scores(matrix)
    treatment_feeds_all = matrix.video_ids[top_k_positions(scores, FEED_SIZE)]
    user_row = pd.Series(np.arange(matrix.user_ids.size), index=matrix.user_ids)
    if TOP_N_USER not in user_row.index:
        raise FeedlabInputError(f"user {TOP_N_USER} has no interaction; the seed's top-5 example needs one")
    top5 = matrix.video_ids[top_k_positions(scores[user_row[TOP_N_USER]], TOP_N)]

    control_users, treatment_users = split_users(matrix.user_ids, legacy)
    popular = popularity_top_k(interactions)
    control_feeds = np.tile(popular, (control_users.size, 1))
    treatment_feeds = treatment_feeds_all[user_row.reindex(treatment_users).to_numpy()]

    control_values = watch_time_on_feed(interactions, control_users, control_feeds)
    treatment_values = watch_time_on_feed(interactions, treatment_users, treatment_feeds)
    control_mean = float(np.nanmean(control_values))
    treatment_mean = float(np.nanmean(treatment_values))
    test = ttest_ind(treatment_values, control_values, nan_policy="omit")

    video_creator = interactions.drop_duplicates("video_id").set_index("video_id")["creator_id"]
    control_exposure = creator_exposure(control_feeds, video_creator)
    treatment_exposure = creator_exposure(treatment_feeds, video_creator)
    return SeedFigures(
        control_watch_time_s=control_mean,
        treatment_watch_time_s=treatment_mean,
        uplift_pct=(treatment_mean - control_mean) / control_mean * 100,
        t_statistic=float(test.statistic),
        p_value=float(test.pvalue),
        creator_gini_control=gini(control_exposure),
        creator_gini_treatment=gini(treatment_exposure),
        long_tail_share_control=long_tail_share(control_exposure),
        long_tail_share_treatment=long_tail_share(treatment_exposure),
        user_42_top5=tuple(int(v) for v in top5),
        control_values=control_values,
        treatment_values=treatment_values,
    )


def reproduce_seed_analysis(cfg: WorldConfig, interactions: pd.DataFrame | None = None) -> SeedFigures:
    """The seed notebook's figures on the seed-compat world of ``cfg``.

    With ``interactions`` (e.g. the warehouse's sim_interactions) they are checked to equal the regenerated
    world's and analysed; the split's RNG always comes from the regeneration.
    """
    regenerated, legacy = seed_compat_world(cfg)
    if interactions is None:
        interactions = regenerated
    else:
        assert_same_interactions(interactions, regenerated)
    return analyse(interactions, legacy)


def same_to_significant_digits(a: float, b: float, digits: int = SIGNIFICANT_DIGITS) -> bool:
    """True when a and b round to the same ``digits`` significant digits (zero matches only |x| < 1e-12)."""
    if abs(a) < 1e-12 or abs(b) < 1e-12:
        return abs(a) < 1e-12 and abs(b) < 1e-12
    return f"{a:.{digits - 1}e}" == f"{b:.{digits - 1}e}"


def figures_frame(figures: SeedFigures) -> pd.DataFrame:
    """One row per seed figure: figure, seed_value, warehouse_value, matches (4 significant digits), note."""
    reproduced = figures.as_dict()
    rows = [
        {
            "figure": name,
            "seed_value": float(seed),
            "warehouse_value": float(reproduced[name]),
            "matches": same_to_significant_digits(seed, reproduced[name]),
            "note": IN_SAMPLE_NOTE,
        }
        for name, seed in SEED_FIGURES.items()
    ]
    return pd.DataFrame(rows)

