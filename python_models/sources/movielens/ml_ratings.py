"""MovieLens-100K u.data: one row per rating, validated and typed by feedlab.sources.movielens.load_ratings."""
from feedlab.sources.movielens import load_ratings


def model(dbt, session):
    return load_ratings(session, dbt.config.get("movielens_path"))
