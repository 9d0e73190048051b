"""KuaiRec small_matrix.csv (+ big_matrix.csv when var kuairec_use_big_matrix), validated and typed by
feedlab.sources.kuairec.load_interactions."""
from feedlab.sources.kuairec import load_interactions


def model(dbt, session):
    return load_interactions(session, dbt.config.get("kuairec_path"), dbt.config.get("kuairec_use_big_matrix"))
