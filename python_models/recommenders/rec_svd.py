"""PureSVD policy: TruncatedSVD on the sparse user × item matrix (feedlab.recsys.svd)."""
from feedlab.policy_io import PolicyConfig, run_policy, svd_value_for, train_split
from feedlab.recsys import recommend_svd


def model(dbt, session):
    cfg = PolicyConfig.from_json(dbt.config.get("policy"))
    return run_policy(
        cfg, train_split(dbt.ref("int_split")), dbt.ref("stg_items").df(), recommend_svd,
        servable=dbt.ref("int_servable_items").df(),
        n_components=int(cfg.params["svd_components"]),
        value=svd_value_for(cfg.dataset, cfg.params["svd_value"]),
    )
