"""MovieLens-100K u.item: one row per movie, validated and typed by feedlab.sources.movielens.load_items."""
from feedlab.sources.movielens import load_items


def model(dbt, session):
    return load_items(session, dbt.config.get("movielens_path"))
