"""The seed's two-tower variant: feature towers trained with MSE on scaled watch ratio (feedlab.recsys.two_tower)."""
from feedlab.policy_io import PolicyConfig, run_policy, train_split
from feedlab.recsys import recommend_two_tower_mse


def model(dbt, session):
    cfg = PolicyConfig.from_json(dbt.config.get("policy"))
    return run_policy(
        cfg, train_split(dbt.ref("int_split")), dbt.ref("stg_items").df(), recommend_two_tower_mse,
        servable=dbt.ref("int_servable_items").df(),
    )
