"""The synthetic world generator: determinism, seed compatibility, scale, config validation."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedlab.errors import FeedlabInputError
from feedlab.world import (
    WorldConfig,
    creators_frame,
    draw_entities,
    generate_world,
    user_preferences_frame,
    videos_frame,
)

SMALL = dict(n_users=200, n_videos=80, n_creators=20, n_interactions=5000)
ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_gives_identical_world_bit_for_bit():
    cfg = WorldConfig(**SMALL, seed=7)
    entities_a, interactions_a = generate_world(cfg)
    entities_b, interactions_b = generate_world(cfg)
    pd.testing.assert_frame_equal(interactions_a, interactions_b, check_exact=True)
    np.testing.assert_array_equal(entities_a.user_prefs, entities_b.user_prefs)


def test_different_seed_gives_different_world():
    _, a = generate_world(WorldConfig(**SMALL, seed=1))
    _, b = generate_world(WorldConfig(**SMALL, seed=2))
    assert not a["user_id"].equals(b["user_id"])


def test_entities_alone_match_the_full_draw():
    # The ground-truth models regenerate only the entities; they must be those the interactions were drawn from.
    for seed_compat in (False, True):
        cfg = WorldConfig(**SMALL, seed_compat=seed_compat)
        entities, interactions = generate_world(cfg)
        alone = draw_entities(cfg)
        np.testing.assert_array_equal(alone.user_prefs, entities.user_prefs)
        np.testing.assert_array_equal(alone.video_creator, entities.video_creator)
        videos = videos_frame(cfg, alone).set_index("video_id")
        joined = interactions.join(videos, on="video_id", rsuffix="_truth")
        assert (joined["creator_id"] == joined["creator_id_truth"]).all()
        assert (joined["topic_id"] == joined["topic_id_truth"]).all()


def test_interactions_follow_the_response_model():
    cfg = WorldConfig(**SMALL, noise_sd=0.0)
    entities, interactions = generate_world(cfg)
    pref = entities.user_prefs[interactions["user_id"], interactions["topic_id"]]
    np.testing.assert_allclose(interactions["completion_rate"], np.clip(pref, 0.05, 1.0))
    np.testing.assert_allclose(
        interactions["watch_time_s"], interactions["completion_rate"] * interactions["video_length_s"]
    )
    assert (interactions["is_like"] == (interactions["completion_rate"] > 0.65)).all()
    assert (interactions["is_share"] == (interactions["completion_rate"] > 0.8)).all()
    assert (interactions["is_follow"] == (interactions["completion_rate"] > 0.9)).all()
    assert interactions["video_length_s"].between(15, 89).all()


def test_event_times_span_the_configured_days_in_draw_order():
    cfg = WorldConfig(**SMALL, n_days=3, start_date="2025-03-01")
    _, interactions = generate_world(cfg)
    times = interactions["event_at"]
    assert times.is_monotonic_increasing
    assert times.min() >= pd.Timestamp("2025-03-01")
    assert times.max() < pd.Timestamp("2025-03-04")


def test_seed_compat_reproduces_the_seed_notebook():
    entities, interactions = generate_world(WorldConfig(seed_compat=True))
    first = interactions.iloc[0]
    assert (first.user_id, first.video_id, first.creator_id, first.topic_id) == (2559, 400, 252, 0)
    assert first.video_length_s == 32
    assert first.watch_time_s == pytest.approx(1.6, abs=1e-12)
    assert first.completion_rate == pytest.approx(0.05, abs=1e-12)
    assert interactions["creator_id"].nunique() == 291
    pairs = interactions[["user_id", "video_id"]].drop_duplicates()
    assert len(pairs) / (3000 * 1200) == pytest.approx(0.0487592, abs=5e-8)
    # The seed's second row, to pin the interleaving of the per-interaction draws.
    second = interactions.iloc[1]
    assert (second.user_id, second.video_id, second.creator_id) == (1702, 644, 37)
    assert second.watch_time_s == pytest.approx(8.042061, abs=1e-6)


def test_ten_times_world_is_generated_vectorised():
    cfg = WorldConfig(n_users=30_000, n_videos=12_000, n_creators=3_000, n_interactions=1_800_000)
    _, interactions = generate_world(cfg)
    assert len(interactions) == 1_800_000
    assert interactions["user_id"].max() < 30_000
    assert interactions["video_id"].nunique() == 12_000


def test_frames_have_one_row_per_entity():
    cfg = WorldConfig(**SMALL)
    entities = draw_entities(cfg)
    assert len(videos_frame(cfg, entities)) == cfg.n_videos
    assert len(creators_frame(cfg, entities)) == cfg.n_creators
    prefs = user_preferences_frame(entities)
    assert len(prefs) == cfg.n_users * cfg.n_topics
    np.testing.assert_allclose(prefs.groupby("user_id")["preference"].sum(), 1.0)


def test_config_from_dbt_json_coerces_rendered_strings():
    cfg = WorldConfig.from_json('{"n_users": "500", "seed_compat": "True", "start_date": "2025-02-01"}')
    assert cfg.n_users == 500 and cfg.seed_compat is True and cfg.start_date == "2025-02-01"


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"n_users": "many"}', "var 'n_users' must be int"),
        ('{"n_users": 0}', "var 'n_users' must be a positive integer"),
        ('{"seed_compat": "maybe"}', "var 'seed_compat' must be bool"),
        ('{"start_date": "2025-13-01"}', "var 'start_date' must be a date as YYYY-MM-DD, got '2025-13-01'"),
        ('{"start_date": "20250101"}', "var 'start_date' must be a date as YYYY-MM-DD, got '20250101'"),
        ('{"n_userz": 5}', "unknown world vars ['n_userz']"),
        ('{"noise_sd": -0.5}', "var 'noise_sd' must be >= 0, got -0.5"),
        ("not json", "config 'world' must be a JSON object"),
    ],
)
def test_bad_world_vars_name_the_var(text, message):
    with pytest.raises(FeedlabInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        WorldConfig.from_json(text)


def world_config_vars(properties_file: str) -> list[tuple[str, str]]:
    """(WorldConfig field, var) pairs of the JSON config ``world`` in a properties file of python_models/."""
    text = (ROOT / "python_models" / properties_file).read_text()
    return re.findall(r"'(\w+)': var\('(\w+)'\)", text[text.index("world: >-"):])


def test_the_world_vars_are_the_same_in_both_configs_and_in_the_replay_guard():
    """dbt renders neither project macros in YAML configs nor project vars in dbt_project.yml, so the world's vars
    are listed in two python model configs and in the feedback loop's record of its source: one list, kept so."""
    sources = world_config_vars("sources/synthetic/_synthetic__models.yml")
    assert world_config_vars("intermediate/_intermediate__models.yml") == sources
    assert {field for field, _ in sources} <= set(WorldConfig.__dataclass_fields__)
    macro = (ROOT / "macros" / "feedback_loop.sql").read_text()
    replayed = re.search(r"if dataset == 'synthetic' %}\s*{%- for name in \[([^\]]*)\]", macro).group(1)
    assert sorted(re.findall(r"'(\w+)'", replayed)) == sorted(var for _, var in sources)
