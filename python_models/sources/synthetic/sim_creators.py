"""Ground truth: one row per creator with the topic it specialises in."""
from feedlab.world import WorldConfig, creators_frame, draw_entities


def model(dbt, session):
    cfg = WorldConfig.from_json(dbt.config.get("world"))
    return creators_frame(cfg, draw_entities(cfg))
