"""Recommendation policies of feedlab; each returns ``(recs, info)`` with the same frame contract.

``recs`` columns: ``policy`` str, ``user_id`` int64, ``item_id`` int64, ``rank`` int32 (1..k), ``score`` float64;
``k`` rows per user (all unseen items when fewer remain), no item the user has in training, sorted by
(user_id, rank), ties broken by ascending item_id. ``info`` is run metadata for ``fct_model_runs``.
TensorFlow is imported only when a two-tower policy runs.
"""
from feedlab.recsys.ranker import recommend_two_stage_lgbm
from feedlab.recsys.svd import recommend_svd
from feedlab.recsys.two_tower import recommend_two_tower, recommend_two_tower_mse

__all__ = ["recommend_svd", "recommend_two_stage_lgbm", "recommend_two_tower", "recommend_two_tower_mse"]
