"""bench/leakage.py's two popularity scorings, on a hand-made split where counting later rows changes the top item."""
from __future__ import annotations

import math

import duckdb
import pytest

from dbt_helpers import load_bench_script

# (user, item, day, split). Items 1 and 2 have one training row each before day 5; item 3's two come on days 10
# and 11, after user 1's test event (day 5) but before users 3's and 4's. User 2's test item is a training item,
# so user 2 is not evaluated.
ROWS = [(1, 1, 1, "train"), (2, 2, 2, "train"), (3, 3, 10, "train"), (4, 3, 11, "train"),
        (1, 3, 5, "test"), (2, 2, 3, "test"), (3, 2, 20, "test"), (4, 1, 21, "test")]


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table int_split (user_id bigint, item_id bigint, event_at timestamp, split varchar)")
    con.executemany("insert into int_split values (?, ?, timestamp '2000-01-01' + to_days(?), ?)", ROWS)
    con.execute("create table int_servable_items as select range as item_id from range(1, 4)")
    return con


def test_as_built_counts_every_training_row_and_time_aware_only_earlier_ones(con) -> None:
    bench = load_bench_script("leakage.py")
    # Top 1 as built (counts 1, 1, 2): user 1 gets item 3 (hit), user 3 item 1 (miss), user 4 item 1 (hit).
    # Time-aware, user 1 sees counts 1, 1, 0 on day 5 and gets item 2 (miss); users 3 and 4 see all of them.
    assert bench.popularity_metrics(con, 1, "as built") == pytest.approx({"n_users": 3, "hit_rate": 2 / 3,
                                                                           "ndcg": 2 / 3})
    assert bench.popularity_metrics(con, 1, "time-aware") == pytest.approx({"n_users": 3, "hit_rate": 1 / 3,
                                                                             "ndcg": 1 / 3})
    # Top 2: user 1's item 3 is at rank 1 as built and at rank 2 time-aware (NDCG 1 / log2(3)); user 3's item 2 is
    # at rank 2 both ways.
    second = 1 / math.log2(3)
    assert bench.popularity_metrics(con, 2, "as built") == pytest.approx({"n_users": 3, "hit_rate": 1.0,
                                                                           "ndcg": (1 + second + 1) / 3})
    assert bench.popularity_metrics(con, 2, "time-aware") == pytest.approx({"n_users": 3, "hit_rate": 1.0,
                                                                             "ndcg": (second + second + 1) / 3})
