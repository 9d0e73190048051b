"""The synthetic TikTok-style world: users with topic preferences, videos, creators and interactions.

Two generators share one output shape:

* the default, vectorised with ``numpy.random.Generator`` (independent streams for entities, interactions and
  timestamps), which scales to 100x the seed's size without a Python loop over interactions;
* ``seed_compat``, which replays the seed notebook's exact legacy NumPy call sequence (``RandomState(seed)``:
  dirichlet, choice, randint, choice, choice, then one randint/randint/normal triple per interaction) so that the
  seed's figures can be reproduced. It keeps the ``RandomState`` so later steps can continue its stream.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from feedlab.errors import FeedlabInputError

TOPIC_NAMES = ("Comedy", "Music", "Sports", "Gaming", "Education", "Lifestyle", "News", "Tech")
MIN_WATCH_FRACTION = 0.05


@dataclass(frozen=True)
class WorldConfig:
    """Sizes, seed and response-model parameters of a synthetic world (defaults: the seed notebook's)."""

    n_users: int = 3000
    n_videos: int = 1200
    n_creators: int = 300
    n_topics: int = 8
    n_interactions: int = 180_000
    seed: int = 42
    n_days: int = 30
    start_date: str = "2025-01-01"
    dirichlet_alpha: float = 0.8
    noise_sd: float = 0.1
    like_threshold: float = 0.65
    share_threshold: float = 0.8
    follow_threshold: float = 0.9
    min_length_s: int = 15
    max_length_s: int = 90
    seed_compat: bool = False

    def __post_init__(self) -> None:
        for name in ("n_users", "n_videos", "n_creators", "n_topics", "n_interactions", "n_days"):
            if getattr(self, name) < 1:
                raise FeedlabInputError(f"var '{name}' must be a positive integer, got {getattr(self, name)!r}")
        if self.min_length_s < 1 or self.max_length_s <= self.min_length_s:
            raise FeedlabInputError(
                f"WorldConfig's min_length_s/max_length_s must satisfy 1 <= min < max, got "
                f"{self.min_length_s}/{self.max_length_s}"
            )
        if self.dirichlet_alpha <= 0:
            raise FeedlabInputError(f"WorldConfig's dirichlet_alpha must be > 0, got {self.dirichlet_alpha!r}")
        if self.noise_sd < 0:
            raise FeedlabInputError(f"var 'noise_sd' must be >= 0, got {self.noise_sd!r}")
        if not _is_calendar_date(str(self.start_date)):
            raise FeedlabInputError(f"var 'start_date' must be a date as YYYY-MM-DD, got {self.start_date!r}")

    @classmethod
    def from_json(cls, text: str) -> "WorldConfig":
        """Build from the JSON object the dbt config ``world`` carries (values may arrive as strings)."""
        try:
            raw = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise FeedlabInputError(f"config 'world' must be a JSON object of world vars, got {text!r}") from exc
        known = {field.name: field.type for field in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise FeedlabInputError(f"unknown world vars {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if value is None or value == "":
                continue
            try:
                values[name] = _coerce(value, known[name])
            except ValueError:
                raise FeedlabInputError(f"var '{name}' must be {known[name]}, got {value!r}") from None
        return cls(**values)


def _is_calendar_date(text: str) -> bool:
    """Whether ``text`` is a real date written YYYY-MM-DD (numpy would read 20250101 as a year, silently)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _coerce(raw: Any, type_name: str) -> Any:
    if type_name == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in {"true", "false", "1", "0"}:
            raise ValueError(raw)
        return text in {"true", "1"}
    return {"int": int, "float": float, "str": str}[type_name](raw)


@dataclass(frozen=True)
class WorldEntities:
    """Ground truth of a world.

    user_prefs: (n_users, n_topics) float64, rows sum to 1.
    video_topic, video_length_s, video_creator: (n_videos,) int64.
    creator_topic: (n_creators,) int64, the creator's specialisation.
    """

    user_prefs: np.ndarray
    video_topic: np.ndarray
    video_length_s: np.ndarray
    video_creator: np.ndarray
    creator_topic: np.ndarray


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    entity_seq, interaction_seq, time_seq = np.random.SeedSequence(seed).spawn(3)
    return tuple(np.random.Generator(np.random.PCG64(s)) for s in (entity_seq, interaction_seq, time_seq))


def legacy_random_state(cfg: WorldConfig) -> np.random.RandomState:
    """The seed notebook's RNG: ``np.random.seed(seed)`` without touching the process-global state."""
    return np.random.RandomState(cfg.seed)


def draw_entities(cfg: WorldConfig, legacy: np.random.RandomState | None = None) -> WorldEntities:
    """Draw users' preferences, videos and creators.

    In seed-compat mode ``legacy`` (a fresh ``legacy_random_state(cfg)`` when omitted) is advanced exactly as the
    seed notebook advances ``np.random``: dirichlet, choice, randint, choice (creator topics), choice (creators).
    """
    alpha = [cfg.dirichlet_alpha] * cfg.n_topics
    if cfg.seed_compat:
        rs = legacy if legacy is not None else legacy_random_state(cfg)
        user_prefs = rs.dirichlet(alpha=alpha, size=cfg.n_users)
        video_topic = rs.choice(cfg.n_topics, cfg.n_videos)
        video_length = rs.randint(cfg.min_length_s, cfg.max_length_s, size=cfg.n_videos)
        creator_topic = rs.choice(cfg.n_topics, cfg.n_creators)
        video_creator = rs.choice(cfg.n_creators, cfg.n_videos)
    else:
        rng, _, _ = _streams(cfg.seed)
        user_prefs = rng.dirichlet(alpha=alpha, size=cfg.n_users)
        video_topic = rng.integers(cfg.n_topics, size=cfg.n_videos)
        video_length = rng.integers(cfg.min_length_s, cfg.max_length_s, size=cfg.n_videos)
        creator_topic = rng.integers(cfg.n_topics, size=cfg.n_creators)
        video_creator = rng.integers(cfg.n_creators, size=cfg.n_videos)
    return WorldEntities(
        user_prefs=np.asarray(user_prefs, dtype=np.float64),
        video_topic=np.asarray(video_topic, dtype=np.int64),
        video_length_s=np.asarray(video_length, dtype=np.int64),
        video_creator=np.asarray(video_creator, dtype=np.int64),
        creator_topic=np.asarray(creator_topic, dtype=np.int64),
    )


def _draw_events_legacy(cfg: WorldConfig, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # The seed interleaves three scalar draws per interaction; only this loop reproduces its stream.
    users = np.empty(cfg.n_interactions, dtype=np.int64)
    videos = np.empty(cfg.n_interactions, dtype=np.int64)
    noise = np.empty(cfg.n_interactions, dtype=np.float64)
    for i in range(cfg.n_interactions):
        users[i] = rs.randint(cfg.n_users)
        videos[i] = rs.randint(cfg.n_videos)
        noise[i] = rs.normal(0, cfg.noise_sd)
    return users, videos, noise


def watch_fraction(preference: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The world's response model: clip(preference + noise, 0.05, 1.0); any broadcastable shapes."""
    return np.clip(preference + noise, MIN_WATCH_FRACTION, 1.0)


def draw_interactions(
    cfg: WorldConfig, entities: WorldEntities, legacy: np.random.RandomState | None = None
) -> pd.DataFrame:
    """Draw ``cfg.n_interactions`` interactions, one row each (row order = interaction_id).

    Columns: interaction_id, user_id, video_id, creator_id, topic_id, video_length_s, watch_time_s,
    completion_rate, is_like, is_share, is_follow, event_at (datetime64[us], spread uniformly over ``n_days``).
    In seed-compat mode ``legacy`` must be the RandomState that ``draw_entities`` advanced.
    """
    _, interaction_rng, time_rng = _streams(cfg.seed)
    if cfg.seed_compat:
        if legacy is None:
            raise ValueError("seed-compat interactions need the RandomState advanced by draw_entities")
        users, videos, noise = _draw_events_legacy(cfg, legacy)
    else:
        users = interaction_rng.integers(cfg.n_users, size=cfg.n_interactions)
        videos = interaction_rng.integers(cfg.n_videos, size=cfg.n_interactions)
        noise = interaction_rng.normal(0.0, cfg.noise_sd, size=cfg.n_interactions)
    topics = entities.video_topic[videos]
    lengths = entities.video_length_s[videos]
    fraction = watch_fraction(entities.user_prefs[users, topics], noise)
    offsets_us = np.sort(time_rng.integers(0, cfg.n_days * 86_400 * 1_000_000, size=cfg.n_interactions))
    return pd.DataFrame(
        {
            "interaction_id": np.arange(cfg.n_interactions, dtype=np.int64),
            "user_id": users,
            "video_id": videos,
            "creator_id": entities.video_creator[videos],
            "topic_id": topics,
            "video_length_s": lengths.astype(np.float64),
            "watch_time_s": fraction * lengths,
            "completion_rate": fraction,
            "is_like": fraction > cfg.like_threshold,
            "is_share": fraction > cfg.share_threshold,
            "is_follow": fraction > cfg.follow_threshold,
            "event_at": np.datetime64(cfg.start_date, "us") + offsets_us.astype("timedelta64[us]"),
        }
    )


def generate_world(cfg: WorldConfig) -> tuple[WorldEntities, pd.DataFrame]:
    """Entities and interactions of one world, drawn in the order the configured mode requires."""
    legacy = legacy_random_state(cfg) if cfg.seed_compat else None
    entities = draw_entities(cfg, legacy)
    return entities, draw_interactions(cfg, entities, legacy)


def topic_names(n_topics: int) -> list[str]:
    """The seed's eight topic names, then ``Topic 9``, ``Topic 10``, ... for larger worlds."""
    return [TOPIC_NAMES[t] if t < len(TOPIC_NAMES) else f"Topic {t + 1}" for t in range(n_topics)]


def videos_frame(cfg: WorldConfig, entities: WorldEntities) -> pd.DataFrame:
    """One row per video: video_id, creator_id, topic_id, topic_name, video_length_s."""
    names = np.array(topic_names(cfg.n_topics), dtype=object)
    return pd.DataFrame(
        {
            "video_id": np.arange(cfg.n_videos, dtype=np.int64),
            "creator_id": entities.video_creator,
            "topic_id": entities.video_topic,
            "topic_name": names[entities.video_topic],
            "video_length_s": entities.video_length_s.astype(np.float64),
        }
    )


def user_preferences_frame(entities: WorldEntities) -> pd.DataFrame:
    """Long format ground truth: one row per (user_id, topic_id) with its ``preference``."""
    n_users, n_topics = entities.user_prefs.shape
    return pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(n_users, dtype=np.int64), n_topics),
            "topic_id": np.tile(np.arange(n_topics, dtype=np.int64), n_users),
            "preference": entities.user_prefs.ravel(),
        }
    )


def creators_frame(cfg: WorldConfig, entities: WorldEntities) -> pd.DataFrame:
    """One row per creator: creator_id, topic_id (specialisation), topic_name."""
    names = np.array(topic_names(cfg.n_topics), dtype=object)
    return pd.DataFrame(
        {
            "creator_id": np.arange(cfg.n_creators, dtype=np.int64),
            "topic_id": entities.creator_topic,
            "topic_name": names[entities.creator_topic],
        }
    )
