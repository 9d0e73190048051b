"""Two-tower retrieval: ID embeddings and feature towers trained with an in-batch softmax loss."""
from feedlab.policy_io import PolicyConfig, run_policy, train_split
from feedlab.recsys import recommend_two_tower


def model(dbt, session):
    cfg = PolicyConfig.from_json(dbt.config.get("policy"))
    return run_policy(
        cfg, train_split(dbt.ref("int_split")), dbt.ref("stg_items").df(), recommend_two_tower,
        servable=dbt.ref("int_servable_items").df(),
    )
