"""MovieLens-100K loaders: the real files (read in place) and one test per kind of bad input."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from feedlab.errors import FeedlabInputError
from feedlab.sources import movielens as ml

from sources_fixtures import con, ml_dir  # noqa: F401 (fixtures)


def _error(call, *args) -> str:
    """The FeedlabInputError message of call(*args); also checks it is short and one or two lines."""
    with pytest.raises(FeedlabInputError) as info:
        call(*args)
    message = str(info.value)
    assert message.count("\n") <= 1 and len(message) < 400, message
    assert "Traceback" not in message
    return message


# --- the real data set ------------------------------------------------------------------------------------------

def test_real_files_load_with_documented_counts(con, ml100k_dir):
    ratings = ml.load_ratings(con, str(ml100k_dir))
    items = ml.load_items(con, ml100k_dir)
    users = ml.load_users(con, ml100k_dir)
    assert ratings.aggregate("count(*), count(distinct user_id), count(distinct item_id), min(rating), max(rating)").fetchone() == (
        100_000, 943, 1682, 1, 5
    )
    assert [str(t) for t in ratings.types] == ["BIGINT", "BIGINT", "INTEGER", "BIGINT", "TIMESTAMP"]
    span = ratings.aggregate("min(rated_at), max(rated_at)").fetchone()
    assert str(span[0]) == "1997-09-20 03:05:10" and str(span[1]) == "1998-04-22 23:10:38"
    assert items.aggregate("count(*)").fetchone() == (1682,)
    assert users.aggregate("count(*)").fetchone() == (943,)
    by_id = {row[0]: row for row in items.filter("item_id in (1, 267, 543)").fetchall()}
    # (item_id, title, release_date, release_year, imdb_url, topic_id, topic_name, genre_names)
    assert by_id[1][3] == 1995 and by_id[1][5:7] == (3, "Animation")
    assert by_id[1][7] == "Animation|Children's|Comedy"
    assert by_id[267][3] is None and by_id[267][5:7] == (0, "unknown")
    assert by_id[543][1] == "Misérables, Les (1995)"  # latin-1 decoded
    zips = {row[0] for row in users.project("zip_code").fetchall()}
    assert "V3N4P" in zips or any(not z.isdigit() for z in zips)
    assert all(isinstance(z, str) for z in zips)


# --- a small folder of the same shape ---------------------------------------------------------------------------

def test_small_folder_loads(con, ml_dir):
    assert ml.load_ratings(con, ml_dir).aggregate("count(*)").fetchone() == (4,)
    items = dict((r[0], r) for r in ml.load_items(con, ml_dir).fetchall())
    assert items[2][1] == "Misérables, Les (1995)" and items[2][5] == 8 and items[2][7] == "Drama|Musical"
    assert items[3][3] is None and items[3][5] == 0
    assert ml.load_users(con, ml_dir).filter("user_id = 2").fetchone()[4] == "V3N4P"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_var(con, value):
    assert "var 'movielens_path' is empty" in _error(ml.load_ratings, con, value)


def test_missing_folder(con, tmp_path):
    missing = tmp_path / "nope"
    assert _error(ml.load_ratings, con, missing) == f"{missing}: folder not found (var 'movielens_path')"


def test_missing_file(con, ml_dir):
    (ml_dir / "u.user").unlink()
    assert _error(ml.load_users, con, ml_dir) == f"{ml_dir / 'u.user'}: file not found"


def test_empty_file(con, ml_dir):
    (ml_dir / "u.data").write_text("\n")
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: file is empty"


def test_wrong_delimiter(con, ml_dir):
    (ml_dir / "u.data").write_text("1,1,5,874965758\n1,2,3,876893171\n")
    message = _error(ml.load_ratings, con, ml_dir)
    assert message.startswith(f"{ml_dir / 'u.data'}: wrong delimiter")
    assert "tab" in message and "comma" in message


def test_missing_column(con, ml_dir):
    (ml_dir / "u.data").write_text("1\t1\t5\n")
    message = _error(ml.load_ratings, con, ml_dir)
    assert message == f"{ml_dir / 'u.data'}: expected 4 tab-separated fields, line 1 has 3"


def test_extra_column_on_a_later_line(con, ml_dir):
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\textra\n")
    message = _error(ml.load_ratings, con, ml_dir)
    assert message.startswith(f"{ml_dir / 'u.data'}: line 2 has 5 fields, expected 4")


def test_non_numeric_id_names_column_and_line(con, ml_dir):
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\nu7\t1\t4\t888550871\n")
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: user_id 'u7' is not a whole number on line 3"


def test_non_numeric_item_id_in_u_item(con, ml_dir):
    lines = (ml_dir / "u.item").read_bytes().decode("latin-1").splitlines()
    lines[1] = "x" + lines[1]
    (ml_dir / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    assert _error(ml.load_items, con, ml_dir) == f"{ml_dir / 'u.item'}: movie id 'x2' is not a whole number on line 2"


@pytest.mark.parametrize("rating", ["0", "6", "-1"])
def test_rating_out_of_range(con, ml_dir, rating):
    (ml_dir / "u.data").write_text(f"1\t1\t5\t874965758\n1\t2\t{rating}\t876893171\n")
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: rating {rating} outside 1..5 on line 2"


def test_a_line_of_delimiters_is_named_by_its_number(con, ml_dir):
    """DuckDB reads it as a row of nulls (it skips only empty lines), so the line finder must not skip it."""
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n\n\t\t\t\n")
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: user_id '' is not a whole number on line 3"


def test_a_row_only_duckdb_refuses_is_named_by_its_content(con, ml_dir):
    """'+-3' is no integer to Python, but DuckDB reads -3: the range check fails in SQL only, and the message
    quotes the row, since DuckDB's reader has no line numbers."""
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t+-3\t876893171\n")
    assert _error(ml.load_ratings, con, ml_dir) == (
        f"{ml_dir / 'u.data'}: rating +-3 outside 1..5 on the line that reads '1\\t2\\t+-3\\t876893171'")


def test_non_numeric_rating(con, ml_dir):
    (ml_dir / "u.data").write_text("1\t1\tfive\t874965758\n")
    assert "rating 'five' is not a whole number on line 1" in _error(ml.load_ratings, con, ml_dir)


def test_duplicate_event_names_first_duplicated_line(con, ml_dir):
    (ml_dir / "u.data").write_text(
        "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n1\t2\t4\t876893171\n1\t1\t5\t874965758\n"
    )
    message = _error(ml.load_ratings, con, ml_dir)
    assert message.startswith(f"{ml_dir / 'u.data'}: duplicate event (user_id, item_id, timestamp) on line 4 (same as line 2: 1, 2, 876893171)")
    assert "(2 duplicated keys in all)" in message


def test_same_user_item_at_another_time_is_legal(con, ml_dir):
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n1\t1\t4\t874965759\n")
    assert ml.load_ratings(con, ml_dir).aggregate("count(*)").fetchone() == (2,)


@pytest.mark.parametrize("name", ["u.user", "u.item"])
def test_a_latin1_file_saved_as_utf8_with_a_mark_is_named(con, ml_dir, name):
    path = ml_dir / name
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    load = ml.load_users if name == "u.user" else ml.load_items
    assert _error(load, con, ml_dir) == (f"{path}: starts with a UTF-8 byte order mark, but MovieLens writes {name} "
                                         "in latin-1 (ISO-8859-1): use the original file or save it as latin-1")


@pytest.mark.parametrize("date", ["1995-01-01", "01-Jan-95"])  # %Y alone would read '95' as the year 95
def test_bad_release_date(con, ml_dir, date):
    text = (ml_dir / "u.item").read_bytes().decode("latin-1").replace("01-Jan-1995", date, 1)
    (ml_dir / "u.item").write_bytes(text.encode("latin-1"))
    assert _error(ml.load_items, con, ml_dir) == f"{ml_dir / 'u.item'}: release date '{date}' is not dd-Mon-yyyy on line 1"


def test_bad_genre_flag(con, ml_dir):
    lines = (ml_dir / "u.item").read_bytes().decode("latin-1").splitlines()
    lines[2] = lines[2][:-1] + "2"
    (ml_dir / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    message = _error(ml.load_items, con, ml_dir)
    assert message == f"{ml_dir / 'u.item'}: genre flag 18 (Western) is '2', expected 0 or 1 on line 3"


def test_u_item_wrong_field_count(con, ml_dir):
    (ml_dir / "u.item").write_text("1|Toy Story (1995)|01-Jan-1995\n")
    assert _error(ml.load_items, con, ml_dir) == f"{ml_dir / 'u.item'}: expected 24 pipe ('|')-separated fields, line 1 has 3"


def test_duplicate_user_id(con, ml_dir):
    (ml_dir / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n1|30|F|writer|12345\n")
    message = _error(ml.load_users, con, ml_dir)
    assert message == f"{ml_dir / 'u.user'}: duplicate user id on line 3 (same as line 1: 1)"


def test_bad_age(con, ml_dir):
    (ml_dir / "u.user").write_text("1|24|M|technician|85711\n2|-3|F|other|94043\n")
    assert _error(ml.load_users, con, ml_dir) == f"{ml_dir / 'u.user'}: age -3 outside 0..150 on line 2"


def test_messages_name_full_path(con, ml_dir):
    (ml_dir / "u.data").write_text("a\tb\tc\td\n")
    message = _error(ml.load_ratings, con, ml_dir)
    assert re.match(re.escape(str(Path(ml_dir).resolve() / "u.data")) + ": ", message)


def test_rating_with_a_fraction_is_not_a_whole_number(con, ml_dir):
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3.5\t876893171\n")
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: rating '3.5' is not a whole number on line 2"


@pytest.mark.parametrize("timestamp", ["874965758000", "-5", "99999999999999"])
def test_timestamp_outside_unix_seconds_names_the_line(con, ml_dir, timestamp):
    # milliseconds landed in the year 29895 (and 1e14 overflowed inside DuckDB); a negative time in 1969
    (ml_dir / "u.data").write_text(f"1\t1\t5\t874965758\n1\t2\t3\t{timestamp}\n")
    assert _error(ml.load_ratings, con, ml_dir) == (
        f"{ml_dir / 'u.data'}: unix timestamp {timestamp} is not a time in Unix seconds between 1970 and 2100 "
        "(milliseconds? a negative time?) on line 2")


def test_a_folder_or_an_unreadable_file_is_named(con, ml_dir, monkeypatch):
    (ml_dir / "u.data").unlink()
    (ml_dir / "u.data").mkdir()
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: is a folder, expected a file"
    (ml_dir / "u.data").rmdir()
    (ml_dir / "u.data").write_text("1\t1\t5\t874965758\n")

    def refuse(self, *args, **kwargs):  # as chmod 000 does for a user other than root
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: cannot be read (Permission denied)"


@pytest.mark.parametrize(("line", "message"), [
    ("999\t1\t4\t876893171", "user_id 999 is not listed in u.user on line 2 (1 line in all)"),
    ("1\t77\t4\t876893171", "item_id 77 is not listed in u.item on line 2 (1 line in all)"),
])
def test_rating_of_an_unlisted_user_or_movie_names_it(con, ml_dir, line, message):
    # it used to fail only later, as a relationships test that named neither the id nor the line
    (ml_dir / "u.data").write_text(f"1\t1\t5\t874965758\n{line}\n")
    assert _error(ml.load_ratings, con, ml_dir) == f"{ml_dir / 'u.data'}: {message}"
