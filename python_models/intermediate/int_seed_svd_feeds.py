"""The seed notebook's Python-only steps on the seed-compat world: every user's SVD top-10 and the seed's 50/50 arm.

Only these need Python (sklearn's randomized TruncatedSVD, the legacy NumPy stream for the shuffle); the analysis
of the feeds is SQL (int_seed_feeds, int_seed_reproduction).
"""
from feedlab.seed_notebook import seed_svd_feeds
from feedlab.world import WorldConfig


def model(dbt, session):
    cfg = WorldConfig.from_json(dbt.config.get("world"))
    interactions = dbt.ref("sim_interactions").df()
    return seed_svd_feeds(cfg, interactions)
