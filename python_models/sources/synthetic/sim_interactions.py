"""Interactions of the synthetic world (see feedlab.world)."""
from feedlab.world import WorldConfig, generate_world


def model(dbt, session):
    cfg = WorldConfig.from_json(dbt.config.get("world"))
    _, interactions = generate_world(cfg)
    return interactions
