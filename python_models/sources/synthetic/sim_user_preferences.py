"""Ground truth: each user's preference for each topic (the response model's mean watch fraction)."""
from feedlab.world import WorldConfig, draw_entities, user_preferences_frame


def model(dbt, session):
    cfg = WorldConfig.from_json(dbt.config.get("world"))
    return user_preferences_frame(draw_entities(cfg))
