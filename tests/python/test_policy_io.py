"""feedlab.policy_io: the boundary between warehouse tables and the recsys library."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from feedlab import recsys
from feedlab.errors import FeedlabInputError
from feedlab.policy_io import (PYTHON_POLICIES, PolicyConfig, lgbm_label_for, run_policy, servable_restriction,
                               svd_value_for, training_inputs, with_run_info)

ROOT = Path(__file__).resolve().parents[2]


def _split() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2],
            "item_id": [10, 11, 12, 10, 13],
            "event_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01", "2025-01-05"]),
            "watch_time_s": [5.0, None, 7.0, 3.0, 9.0],
            "rating": [None, 4.0, None, None, None],
            "engagement_score": [0.1, 0.2, 0.3, 0.4, 0.5],
            "split": ["train", "train", "test", "train", "test"],
        }
    )


def _items() -> pd.DataFrame:
    return pd.DataFrame({"item_id": [10, 11, 12, 13], "topic_id": [0, 1, None, 2], "item_length_s": [30.0, 40.0, 50.0, 60.0]})


def test_training_inputs_keep_only_training_rows():
    train, items, users = training_inputs(_split(), _items())
    assert list(train.columns) == ["user_id", "item_id", "event_at", "value", "engagement"]
    assert sorted(zip(train.user_id, train.item_id)) == [(1, 10), (1, 11), (2, 10)]
    # Watch time where the data set has one, the rating otherwise.
    assert train.set_index("item_id").loc[11, "value"] == 4.0
    assert list(users) == [1, 2]
    assert items.loc[items.item_id == 12, "topic_id"].item() == -1


def test_run_policy_passes_only_training_rows_and_adds_run_columns():
    seen = {}

    def recommend(train, users, k, *, items, **params):
        seen.update(rows=len(train), k=k, params=params)
        recs = pd.DataFrame({"policy": "p", "user_id": [1], "item_id": [13], "rank": [1], "score": [1.0]})
        return recs, {"rows_trained": len(train), "total_seconds": 0.5, "params": {"k": k, **params}}

    cfg = PolicyConfig.from_json(json.dumps({"dataset": "synthetic", "top_k": "7", "alpha": 1}))
    out = run_policy(cfg, _split(), _items(), recommend, alpha=1)
    assert seen == {"rows": 3, "k": 7, "params": {"servable": None, "alpha": 1}}
    assert out.loc[0, "run_dataset"] == "synthetic"
    assert out.loc[0, "run_rows_trained"] == 3
    assert json.loads(out.loc[0, "run_parameters"]) == {"alpha": 1, "k": 7, "servable": None}


def test_svd_value_choice():
    assert svd_value_for("movielens", "auto") == "binary"
    assert svd_value_for("synthetic", "auto") == "value"
    assert svd_value_for("synthetic", "binary") == "binary"
    with pytest.raises(FeedlabInputError, match="var 'svd_value'"):
        svd_value_for("synthetic", "dense")


def test_lgbm_label_choice():
    assert lgbm_label_for("movielens", "auto") == "presence"
    assert lgbm_label_for("synthetic", "auto") == "watch_time"
    assert lgbm_label_for("kuairec", "auto") == "watch_time"
    assert lgbm_label_for("synthetic", "presence") == "presence"
    with pytest.raises(FeedlabInputError, match="var 'lgbm_label'"):
        lgbm_label_for("synthetic", "clicks")


def test_bad_policy_config_is_named():
    with pytest.raises(FeedlabInputError, match="config 'policy'"):
        PolicyConfig.from_json('{"top_k": 5}')


def test_with_run_info_is_constant_per_run():
    recs = pd.DataFrame({"policy": "p", "user_id": [1, 2], "item_id": [3, 4], "rank": [1, 1], "score": [0.5, 0.4]})
    out = with_run_info(recs, {"rows_trained": 10, "total_seconds": 1.25, "params": {"b": 2, "a": 1}}, "movielens")
    assert out["run_parameters"].nunique() == 1 and out["run_seconds"].eq(1.25).all()
    assert out.loc[0, "run_parameters"] == '{"a": 1, "b": 2}'


def test_train_split_filters_and_projects_in_duckdb():
    import duckdb

    from feedlab.policy_io import SPLIT_COLUMNS, train_split

    con = duckdb.connect()
    con.register("split_df", _split().assign(unused_wide_column="x" * 50))

    frame = train_split(con.sql("select * from split_df"))
    assert list(frame.columns) == list(SPLIT_COLUMNS)
    assert (frame["split"] == "train").all() and len(frame) == 3
    got, _, users = training_inputs(frame, _items())
    want, _, want_users = training_inputs(_split(), _items())
    pd.testing.assert_frame_equal(got.sort_values(["user_id", "item_id"]).reset_index(drop=True),
                                  want.sort_values(["user_id", "item_id"]).reset_index(drop=True))
    assert users.tolist() == want_users.tolist()


def test_train_split_of_a_spark_dataframe_goes_through_to_pandas():
    """On a Spark-backed adapter (Databricks) dbt.ref() is a Spark DataFrame: no .project, a .toPandas."""
    from feedlab.policy_io import train_split
    from feedlab.spark import to_pandas

    class SparkFrame:
        def toPandas(self) -> pd.DataFrame:
            return _split()

    pd.testing.assert_frame_equal(train_split(SparkFrame()), _split())
    pd.testing.assert_frame_equal(to_pandas(_split()), _split())


def test_servable_restriction_only_when_it_leaves_items_out():
    items = _items()
    assert servable_restriction(None, items) is None
    assert servable_restriction(pd.DataFrame({"item_id": [13, 12, 11, 10]}), items) is None
    assert servable_restriction(pd.DataFrame({"item_id": [13, 11, 13]}), items).tolist() == [11, 13]


def test_every_list_of_the_python_policies_is_python_policies() -> None:
    """dbt reads no Python, so the macro, var python_policies' default and the registry seed's accepted values list
    the policies again; they must not drift from PYTHON_POLICIES, nor the functions and models it names."""
    default = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]["python_policies"]
    assert tuple(default) == PYTHON_POLICIES
    macro = (ROOT / "macros" / "python_policy_models.sql").read_text()
    known = re.search(r"set known = \[([^\]]*)\]", macro).group(1)
    assert tuple(re.findall(r"'(\w+)'", known)) == PYTHON_POLICIES
    policy_column = next(column for column in yaml.safe_load((ROOT / "seeds" / "_seeds.yml").read_text())["seeds"][0]
                         ["columns"] if column["name"] == "policy")
    accepted = next(test["accepted_values"]["arguments"]["values"] for test in policy_column["data_tests"]
                    if isinstance(test, dict) and "accepted_values" in test)
    assert set(PYTHON_POLICIES) <= set(accepted)
    for name in PYTHON_POLICIES:
        assert callable(getattr(recsys, f"recommend_{name}"))
        assert (ROOT / "python_models" / "recommenders" / f"rec_{name}.py").is_file()
