"""Ground truth: one row per video of the synthetic world (topic, length, creator)."""
from feedlab.world import WorldConfig, draw_entities, videos_frame


def model(dbt, session):
    cfg = WorldConfig.from_json(dbt.config.get("world"))
    return videos_frame(cfg, draw_entities(cfg))
