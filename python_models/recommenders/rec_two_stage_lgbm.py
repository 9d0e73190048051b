"""Two-stage policy: retrieval candidates re-ranked by LightGBM (feedlab.recsys.ranker)."""
from feedlab.policy_io import PolicyConfig, lgbm_label_for, run_policy, train_split
from feedlab.recsys import recommend_two_stage_lgbm


def model(dbt, session):
    cfg = PolicyConfig.from_json(dbt.config.get("policy"))
    return run_policy(
        cfg, train_split(dbt.ref("int_split")), dbt.ref("stg_items").df(), recommend_two_stage_lgbm,
        servable=dbt.ref("int_servable_items").df(),
        objective=cfg.params["lgbm_objective"], n_candidates=int(cfg.params["lgbm_candidates"]),
        label=lgbm_label_for(cfg.dataset, cfg.params["lgbm_label"]),
    )
