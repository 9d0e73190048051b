"""The seed notebook's own (in-sample, biased) A/B figures recomputed on the warehouse's seed-compat world."""
from feedlab.seed_notebook import figures_frame, reproduce_seed_analysis
from feedlab.world import WorldConfig


def model(dbt, session):
    cfg = WorldConfig.from_json(dbt.config.get("world"))
    interactions = dbt.ref("sim_interactions").df()
    return figures_frame(reproduce_seed_analysis(cfg, interactions))
