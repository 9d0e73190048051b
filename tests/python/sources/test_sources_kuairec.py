"""KuaiRec loaders, on small files of the documented shape written here (no copy of KuaiRec exists)."""
from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from feedlab.errors import FeedlabInputError
from feedlab.sources import kuairec as kr
from feedlab.sources.kuairec_shaped import KuaiRecShape, write_kuairec_shaped

from sources_fixtures import MATRIX_HEADER, SMALL_ROWS, con, kuairec_dir, write_kuairec  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[3]


def _error(call, *args) -> str:
    with pytest.raises(FeedlabInputError) as info:
        call(*args)
    message = str(info.value)
    assert message.count("\n") <= 1 and len(message) < 400, message
    return message


def _rows(relation) -> list[dict]:
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def _write_matrix(folder: Path, lines: list[str], name: str = "small_matrix.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = "0,3650,13838,10867,2020-07-05 00:08:23.438,20200705,1593878903.438,1.273397"


# --- the documented shape and its quirks ------------------------------------------------------------------------

def test_small_matrix_with_quirks(con, kuairec_dir):
    rows = _rows(kr.load_interactions(con, kuairec_dir))
    assert len(rows) == len(SMALL_ROWS)
    by_key = {(r["user_id"], r["video_id"]): r for r in rows}
    first = by_key[(0, 3650)]
    assert first["event_at"] == datetime(2020, 7, 4, 16, 8, 23, 438000)  # Unix seconds, UTC
    assert first["event_time_source"] == "timestamp" and first["source_matrix"] == "small"
    assert first["play_duration_ms"] == 13838 and first["watch_ratio"] == pytest.approx(1.273397)
    # all of time/date/timestamp empty: kept, no event time (staging drops it; a warn test counts it)
    assert by_key[(1, 3650)]["event_at"] is None and by_key[(1, 3650)]["event_time_source"] is None
    # only a date (written as a float by pandas): midnight Beijing = 16:00 UTC the day before
    assert by_key[(1, 9598)]["event_at"] == datetime(2020, 7, 5, 16, 0)
    assert by_key[(1, 9598)]["event_time_source"] == "date" and by_key[(1, 9598)]["date_local"] == 20200706
    # watch_ratio 0 is legal; video_duration 0 with an empty ratio gives a null ratio
    assert by_key[(2, 3650)]["watch_ratio"] == 0.0
    assert by_key[(2, 7777)]["video_duration_ms"] == 0 and by_key[(2, 7777)]["watch_ratio"] is None


def test_time_fallback_is_beijing_time(con, tmp_path):
    folder = write_kuairec(tmp_path / "kr")
    _write_matrix(folder, [MATRIX_HEADER, "5,3650,100,10867,2020-07-05 08:00:00.000,20200705,,0.5"])
    (row,) = _rows(kr.load_interactions(con, folder))
    assert row["event_at"] == datetime(2020, 7, 5, 0, 0) and row["event_time_source"] == "time"


def test_big_matrix_union_keeps_shared_events_once(con, tmp_path):
    folder = write_kuairec(tmp_path / "kr", big=True)
    assert len(_rows(kr.load_interactions(con, folder, "False"))) == 6
    rows = _rows(kr.load_interactions(con, folder, "True"))
    assert len(rows) == 6 + 2  # the big matrix's first row is also in the small matrix
    assert sorted(r["source_matrix"] for r in rows).count("big") == 2


def test_big_matrix_required_when_enabled(con, kuairec_dir):
    assert _error(kr.load_interactions, con, kuairec_dir, True) == f"{kuairec_dir / 'big_matrix.csv'}: file not found"


def test_items_without_daily_features_creator_is_the_video(con, kuairec_dir):
    rows = {r["video_id"]: r for r in _rows(kr.load_items(con, kuairec_dir))}
    assert rows[3650]["topic_id"] == 27 and rows[3650]["n_tags"] == 2
    assert rows[7777]["topic_id"] == 0
    assert all(r["creator_id"] == -(v + 1) and r["creator_kind"] == "video" and r["author_id"] is None
               for v, r in rows.items())


def test_items_with_daily_features_use_authors(con, tmp_path):
    folder = write_kuairec(tmp_path / "kr", daily=True)
    rows = {r["video_id"]: r for r in _rows(kr.load_items(con, folder))}
    assert rows[3650]["creator_id"] == 100 and rows[3650]["creator_kind"] == "author"
    assert rows[9598]["creator_id"] == 101
    assert rows[1234]["creator_id"] == -1235 and rows[1234]["creator_kind"] == "video"


def test_parse_bool():
    assert kr.parse_bool("True", "v") is True and kr.parse_bool("false", "v") is False and kr.parse_bool(None, "v") is False
    assert _error(kr.parse_bool, "maybe", "kuairec_use_big_matrix").startswith("var 'kuairec_use_big_matrix'")


# --- bad input: one readable line naming the file ---------------------------------------------------------------

def test_missing_folder(con, tmp_path):
    missing = tmp_path / "none"
    assert _error(kr.load_interactions, con, missing) == f"{missing}: folder not found (var 'kuairec_path')"
    assert "var 'kuairec_path' is empty" in _error(kr.load_items, con, "")


def test_missing_file(con, kuairec_dir):
    (kuairec_dir / "item_categories.csv").unlink()
    assert _error(kr.load_items, con, kuairec_dir) == f"{kuairec_dir / 'item_categories.csv'}: file not found"


def test_empty_file(con, kuairec_dir):
    (kuairec_dir / "small_matrix.csv").write_text("")
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{kuairec_dir / 'small_matrix.csv'}: file is empty"


def test_header_only(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: file has a header but no data rows"


def test_wrong_delimiter(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER.replace(",", ";"), GOOD.replace(",", ";")])
    message = _error(kr.load_interactions, con, kuairec_dir)
    assert message.startswith(f"{path}: wrong delimiter") and "semicolon" in message


def test_missing_column(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER.replace(",watch_ratio", ""), GOOD.rsplit(",", 1)[0]])
    assert _error(kr.load_interactions, con, kuairec_dir).startswith(f"{path}: missing column(s) watch_ratio")


def test_extra_column(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, ["," + MATRIX_HEADER, "0," + GOOD])  # a pandas index column
    assert _error(kr.load_interactions, con, kuairec_dir).startswith(f"{path}: unexpected column(s) ''")


def test_extra_field_on_a_row(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, GOOD.replace("0,3650", "1,3650") + ",9"])
    assert _error(kr.load_interactions, con, kuairec_dir).startswith(f"{path}: line 3 has 9 fields, expected 8")


def test_non_numeric_id(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, GOOD.replace("0,3650", "0,v3651")])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: non-numeric video_id 'v3651' on line 3"


@pytest.mark.parametrize(
    "play, expected",
    [("-5", "negative play_duration -5"), ("nan", "play_duration 'nan' is not a finite number"), ("", "play_duration is empty")],
)
def test_bad_duration(con, kuairec_dir, play, expected):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD.replace(",13838,", f",{play},")])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: {expected} on line 2"


def test_negative_video_duration(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, GOOD.replace("0,3650", "1,3650").replace(",10867,", ",-1,")])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: negative video_duration -1 on line 3"


def test_watch_ratio_rules(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD.replace("1.273397", "nan")])
    assert _error(kr.load_interactions, con, kuairec_dir) == (
        f"{path}: watch_ratio 'nan' is empty, NaN or infinite (video_duration > 0) on line 2"
    )
    _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD.replace("1.273397", "-0.5")])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: negative watch_ratio -0.5 on line 2"


def test_bad_timestamp_and_date(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD.replace("1593878903.438", "yesterday")])
    assert "timestamp 'yesterday' is not a number of Unix seconds on line 2" in _error(kr.load_interactions, con, kuairec_dir)
    _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD.replace(",20200705,", ",20201340,")])
    assert _error(kr.load_interactions, con, kuairec_dir) == (
        f"{path}: date '20201340' is not a whole yyyymmdd between 1970 and 2100 on line 2")


# Without a timestamp the row's time comes from `time` or `date`: each must be a real time of 1970-2100 (DuckDB's and
# Python's %Y also take a two-digit year, and a cast to bigint would round a fractional date).
@pytest.mark.parametrize("time, date, message", [
    ("20-07-05 00:08:23", "", "time '20-07-05 00:08:23' is not 'yyyy-mm-dd hh:mm:ss[.fff]' between 1970 and 2100"),
    ("1900-07-05 00:08:23", "", "time '1900-07-05 00:08:23' is not 'yyyy-mm-dd hh:mm:ss[.fff]' between 1970 and 2100"),
    ("", "20200705.5", "date '20200705.5' is not a whole yyyymmdd between 1970 and 2100"),
    ("", "2020705", "date '2020705' is not a whole yyyymmdd between 1970 and 2100"),
    ("", "19000705", "date '19000705' is not a whole yyyymmdd between 1970 and 2100"),
])
def test_time_and_date_fallbacks_need_a_real_time(con, kuairec_dir, time, date, message):
    row = f"4,3650,5000,10867,{time},{date},,0.5"
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, row])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: {message} on line 3"


@pytest.mark.parametrize("file, lines, message", [
    ("small_matrix.csv", [MATRIX_HEADER, GOOD.replace("0,3650,", "-3,3650,", 1)], "negative user_id -3"),
    ("small_matrix.csv", [MATRIX_HEADER, GOOD.replace("0,3650,", "0,-3650,", 1)], "negative video_id -3650"),
    ("item_categories.csv", ["video_id,feat", '-5,"[1]"'], "negative video_id -5"),
])
def test_negative_ids_are_refused(con, kuairec_dir, file, lines, message):
    """A negative id could pass for a creator stand-in -(video_id + 1)."""
    path = _write_matrix(kuairec_dir, lines, file)
    load = kr.load_interactions if file == "small_matrix.csv" else kr.load_items
    assert _error(load, con, kuairec_dir) == f"{path}: {message} on line 2"


def test_blank_lines_before_the_header_are_skipped(con, kuairec_dir):
    path = kuairec_dir / "small_matrix.csv"
    path.write_text("\n\n" + path.read_text())
    assert len(_rows(kr.load_interactions(con, kuairec_dir))) == len(SMALL_ROWS)


def test_a_line_of_commas_is_named_by_its_number(con, kuairec_dir):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, "", ",,,,,,,"])
    assert _error(kr.load_interactions, con, kuairec_dir) == f"{path}: non-numeric user_id '' on line 4"


def test_duplicate_event(con, kuairec_dir):
    other = "0,9598,13665,10984,2020-07-05 00:13:41.297,20200705,1593879221.297,1.244082"
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, other, GOOD.replace("13838", "999")])
    assert _error(kr.load_interactions, con, kuairec_dir) == (
        f"{path}: duplicate event (user_id, video_id, timestamp) on line 4 (same as line 2: 0, 3650, 1593878903.438)"
    )


def test_rows_without_timestamp_are_not_duplicates(con, kuairec_dir):
    blank = "1,3650,851,10867,,,,0.078311"
    _write_matrix(kuairec_dir, [MATRIX_HEADER, blank, blank])
    assert len(_rows(kr.load_interactions(con, kuairec_dir))) == 2


def test_bad_feat(con, kuairec_dir):
    path = kuairec_dir / "item_categories.csv"
    path.write_text('video_id,feat\n1,"[27, 9]"\n2,27 9\n')
    assert _error(kr.load_items, con, kuairec_dir) == (
        f"{path}: feat '27 9' is not a list of tag ids like \"[27, 9]\" on line 3"
    )


@pytest.mark.parametrize("feat", ["[27, 31]", "[99999999999]"])
def test_tag_id_above_kuairecs_range(con, kuairec_dir, feat):
    path = kuairec_dir / "item_categories.csv"
    path.write_text(f'video_id,feat\n1,"[0, 030]"\n2,"{feat}"\n')
    assert _error(kr.load_items, con, kuairec_dir) == (
        f"{path}: feat {feat!r} has a tag id above KuaiRec's 30 on line 3"
    )


def test_duplicate_video_in_categories(con, kuairec_dir):
    path = kuairec_dir / "item_categories.csv"
    path.write_text('video_id,feat\n1,"[27, 9]"\n2,"[3]"\n1,"[4]"\n')
    assert _error(kr.load_items, con, kuairec_dir) == f"{path}: duplicate video_id on line 4 (same as line 2: 1)"


def test_daily_features_need_author(con, tmp_path):
    folder = write_kuairec(tmp_path / "kr", daily=True)
    path = folder / "item_daily_features.csv"
    path.write_text("video_id,date,play_cnt\n1,20200705,3\n")
    assert _error(kr.load_items, con, folder).startswith(f"{path}: missing column(s) author_id")
    path.write_text("video_id,date,author_id\n1,20200705,abc\n")
    assert _error(kr.load_items, con, folder) == f"{path}: non-numeric author_id 'abc' on line 2"
    path.write_text("video_id,date,author_id\n9598,20200705,-3651\n")
    assert _error(kr.load_items, con, folder) == f"{path}: negative author_id -3651 on line 2"


def test_daily_features_need_one_real_date_per_video_and_day(con, tmp_path):
    """The author is the one on the video's latest date: an unreadable date or two rows of one day would leave it
    to the row order."""
    folder = write_kuairec(tmp_path / "kr", daily=True)
    path = folder / "item_daily_features.csv"
    path.write_text("video_id,date,author_id\n3650,20200704,100\n3650,2020-07-05,200\n")
    assert _error(kr.load_items, con, folder) == (
        f"{path}: date '2020-07-05' is not a whole yyyymmdd between 1970 and 2100 on line 3")
    path.write_text("video_id,date,author_id\n3650,20200705,100\n3650,20200705.0,200\n")
    assert _error(kr.load_items, con, folder).startswith(f"{path}: duplicate video_id and date on line 3")
    path.write_text("video_id,date,author_id\n3650,20200705,200\n3650,20200704,100\n")
    rows = {r["video_id"]: r for r in _rows(kr.load_items(con, folder))}
    assert rows[3650]["creator_id"] == 200


# --- the dbt models end to end (python landing + SQL staging) ---------------------------------------------------

def test_dbt_build_kuairec_models(tmp_path):
    folder = write_kuairec(tmp_path / "kr", big=True, daily=True)
    # video 100 appears only in the interactions, and 100 is also an author's id (DAILY)
    with open(folder / "big_matrix.csv", "a") as big:
        big.write("3,100,5000,10000,2020-07-04 10:00:00.000,20200704,1593828000.0,0.5\n")
    warehouse = tmp_path / "kuairec.duckdb"
    env = dict(os.environ, FEEDLAB_WAREHOUSE=str(warehouse), DBT_PROFILES_DIR=str(REPO))
    models = ("kr_interactions kr_items base_kuairec__interactions stg_kuairec__interactions "
              "stg_kuairec__interaction_sources stg_kuairec__items stg_kuairec__users stg_kuairec__creators")
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbt"), "build", "--vars",
         f"{{dataset: kuairec, kuairec_path: '{folder}', kuairec_use_big_matrix: true}}",
         "--select", *models.split(), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {t: con.sql(f"select count(*) from {t}").fetchone()[0] for t in models.split()}
        assert counts == {
            "kr_interactions": 9, "kr_items": 4, "base_kuairec__interactions": 8, "stg_kuairec__interactions": 8,
            "stg_kuairec__interaction_sources": 8, "stg_kuairec__items": 5, "stg_kuairec__users": 4,
            "stg_kuairec__creators": 4,
        }
        assert con.sql("select creator_id from stg_kuairec__items where item_id = 100").fetchall() == [(-101,)]
        assert con.sql("select creator_id from stg_kuairec__interactions where item_id = 100").fetchall() == [(-101,)]
        assert con.sql("select creator_name from stg_kuairec__creators where creator_id in (-101, 100) "
                       "order by creator_id").fetchall() == [("video 100",), ("author 100",)]
        # the event in both files is kept once, as small; the small row without any time is dropped
        sources = dict(con.sql("select source_matrix, count(*) from stg_kuairec__interaction_sources group by 1").fetchall())
        assert sources == {"small": 5, "big": 3}
        ids = [r[0] for r in con.sql("select interaction_id from stg_kuairec__interactions order by event_at, user_id, item_id").fetchall()]
        assert ids == list(range(8))
        capped = con.sql("select max(watch_ratio), max(completion_rate), count(*) filter (where is_like) from stg_kuairec__interactions").fetchone()
        assert capped == (pytest.approx(3.680868), 1.0, 2)


def test_kuairec_shaped_folder_has_the_real_layout(con, tmp_path):
    shape = KuaiRecShape(n_small_users=5, n_small_videos=8, n_users=12, n_videos=20, density=0.5)
    folder = write_kuairec_shaped(tmp_path / "shaped", shape)
    rows = kr.load_interactions(con, folder, True).df()  # the loader's validation accepts the files
    small, big = rows[rows.source_matrix == "small"], rows[rows.source_matrix == "big"]
    assert sorted(zip(small.user_id, small.video_id)) == [(u, v) for u in range(5) for v in range(8)]
    assert not (big.user_id.lt(5) & big.video_id.lt(8)).any()  # the big matrix leaves the small pairs out
    assert 0.3 < len(big) / (12 * 20 - 5 * 8) < 0.7
    assert small.watch_ratio.gt(2).any() and small.watch_ratio.le(2).any()
    # time and date say the timestamp's instant in Beijing time: without the timestamp, the same event times
    matrix = folder / "small_matrix.csv"
    matrix.write_text(pd.read_csv(matrix, dtype=str).assign(timestamp="").to_csv(index=False))
    from_time = kr.load_interactions(con, folder, True).df()
    assert set(from_time.loc[from_time.source_matrix == "small", "event_time_source"]) == {"time"}
    key = ["source_matrix", "user_id", "video_id"]
    both = rows.merge(from_time, on=key, suffixes=("", "_from_time"))
    assert len(both) == len(rows)
    assert (both["event_at"] == both["event_at_from_time"]).all()


@pytest.mark.parametrize("timestamp", ["1593878903438", "1e300", "-1.5"])
def test_timestamp_outside_unix_seconds_names_the_line(con, kuairec_dir, timestamp):
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD, GOOD.replace("1593878903.438", timestamp)])
    assert _error(kr.load_interactions, con, kuairec_dir) == (
        f"{path}: timestamp {timestamp} is not a time in Unix seconds between 1970 and 2100 "
        "(milliseconds? a negative time?) on line 3")


def test_header_with_a_byte_order_mark_loads(con, kuairec_dir):
    # Excel and pandas' utf-8-sig write one; it used to hide the first column's name
    path = _write_matrix(kuairec_dir, [MATRIX_HEADER, GOOD])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    (row,) = _rows(kr.load_interactions(con, kuairec_dir))
    assert (row["user_id"], row["video_id"]) == (0, 3650)
