"""KuaiRec item_categories.csv (+ authors from item_daily_features.csv when present), validated and typed by
feedlab.sources.kuairec.load_items."""
from feedlab.sources.kuairec import load_items


def model(dbt, session):
    return load_items(session, dbt.config.get("kuairec_path"))
