"""Recommendation policies of feedlab, one uniform call each::

    recs, info = recommend_<policy>(train, users, k=10, *, items=None, servable=None, **params)

``train``: interactions, ``user_id`` int64, ``item_id`` int64, ``event_at`` datetime64, ``value`` float64 and
optional ``engagement`` float64 in [0, 1]. ``users``: ids to rank for (each with training rows). ``items``:
``item_id``, ``topic_id``, ``length_s`` (may be NaN), used by the ranker and the towers. ``servable``: item ids, the
only ones that may be recommended (None: every item; KuaiRec's big-to-small protocol serves its small matrix).

``recs`` has columns ``OUTPUT_COLUMNS`` = ``policy`` str, ``user_id`` int64, ``item_id`` int64, ``rank`` int32
(1..k), ``score`` float64: exactly ``k`` rows per user, or all of the user's unseen items when fewer than ``k``
remain (for ``two_stage_lgbm``: at most its ``n_candidates``, never fewer than ``k`` by construction), never an
item the user has in ``train``, sorted by (user_id, rank), ties broken by ascending item_id. The catalogue is the
set of items present in ``train`` (and in ``servable`` when given); "unseen items" above are those of the
catalogue.

``info`` is run metadata for ``fct_model_runs``: ``policy``, ``rows_trained``, ``n_users``, ``n_items``,
``n_users_scored``, ``train_seconds``, ``score_seconds``, ``total_seconds`` and ``params`` (a flat dict).

TensorFlow is imported only when a two-tower policy runs.
"""
from feedlab.recsys.common import OUTPUT_COLUMNS
from feedlab.recsys.ranker import recommend_two_stage_lgbm
from feedlab.recsys.svd import recommend_svd
from feedlab.recsys.two_tower import recommend_two_tower, recommend_two_tower_mse

__all__ = ["OUTPUT_COLUMNS", "recommend_svd", "recommend_two_stage_lgbm", "recommend_two_tower",
           "recommend_two_tower_mse"]
