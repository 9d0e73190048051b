"""MovieLens-100K u.user: one row per user, validated and typed by feedlab.sources.movielens.load_users."""
from feedlab.sources.movielens import load_users


def model(dbt, session):
    return load_users(session, dbt.config.get("movielens_path"))
