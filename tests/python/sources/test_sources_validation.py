"""The loaders' shared checks: the SQL rules and their Python twins agree, integers are read exactly, and each
failure names the file and the line."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from feedlab.errors import FeedlabInputError
from feedlab.sources import validation as v

#: Texts a data file may hold where a number is expected, tricky ones included.
TEXTS = [
    "12", "12.0", " 7 ", " 12\t", "+5", "-0", "007", "1e3", "1.0e0", "5.", "1_000", "1.5", ".5", "", " ", "abc",
    "1,5", "0x10", "nan", "NaN", "inf", "-inf", "Infinity", "1e400",
    "\u0663", "\uff11\uff12",  # an Arabic-Indic 3 and a full-width 12: Python's float reads them, DuckDB does not
    "9007199254740993", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
    "9007199254740993.0", "1e20",
]


@pytest.fixture(scope="module")
def sql_reads() -> dict[str, tuple]:
    """Per text: (sql_is_int, sql_as_int, sql_is_num, sql_as_num) as DuckDB evaluates them."""
    con = duckdb.connect()
    exprs = ", ".join(f("x") for f in (v.sql_is_int, v.sql_as_int, v.sql_is_num, v.sql_as_num))
    return {text: con.execute(f"select {exprs} from (select ?::varchar as x)", [text]).fetchone() for text in TEXTS}


@pytest.mark.parametrize("text", TEXTS)
def test_python_twins_read_what_duckdb_reads(text: str, sql_reads) -> None:
    is_int, as_int, is_num, _ = sql_reads[text]
    assert (v.is_int(text), v.as_int(text), v.py_is_num(text)) == (is_int, as_int, is_num)


def test_integers_are_exact_or_refused(sql_reads) -> None:
    # plain digits are cast exactly over the whole bigint range; beyond it, or past 2^53 in another notation
    # (where a double no longer holds every integer), the text is not an integer: never a rounded id
    assert sql_reads["9007199254740993"][:2] == (True, 9007199254740993)
    assert sql_reads["-9223372036854775808"][:2] == (True, -(2**63))
    assert sql_reads["9223372036854775808"][:2] == (False, None)
    assert sql_reads["9007199254740993.0"][:2] == (False, None)  # read as a double it is 2^53
    assert sql_reads["1e20"][:2] == (False, None)
    assert [sql_reads[t][1] for t in ("12.0", "1e3", " 12\t", "-0", "007")] == [12, 1000, 12, 0, 7]
    assert [sql_reads[t][0] for t in ("1.5", ".5", "nan", "inf", "", "1,5")] == [False] * 6
    assert v.as_int("1" * 5000) is None  # past bigint, and past what int() parses


def test_require_folder_and_file_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FeedlabInputError, match="var 'movielens_path' is empty"):
        v.require_folder(" ", "movielens_path", "MovieLens")
    with pytest.raises(FeedlabInputError, match=r"nowhere: folder not found \(var 'kuairec_path'\)"):
        v.require_folder(tmp_path / "nowhere", "kuairec_path", "KuaiRec")
    (tmp_path / "blank.csv").write_text("\n  \n")
    with pytest.raises(FeedlabInputError, match=r"blank\.csv: file is empty"):
        v.require_file(tmp_path, "blank.csv")
    with pytest.raises(FeedlabInputError, match=r"absent\.csv: file not found"):
        v.require_file(tmp_path, "absent.csv")
    assert v.optional_file(tmp_path, "absent.csv") is None
    assert v.require_folder(f" {tmp_path} ", "movielens_path", "MovieLens") == tmp_path.resolve()


def test_field_count_and_header_errors_name_the_line(tmp_path: Path) -> None:
    data = tmp_path / "u.data"
    data.write_text("\n1,2,3,4\n")
    with pytest.raises(FeedlabInputError, match=r"u\.data: wrong delimiter: expected tab-separated fields, line 2 "
                                                r"looks comma-separated"):
        v.check_field_count(data, "\t", 4)
    data.write_text("1\t2\t3\n")
    with pytest.raises(FeedlabInputError, match=r"expected 4 tab-separated fields, line 1 has 3"):
        v.check_field_count(data, "\t", 4)
    matrix = tmp_path / "matrix.csv"
    matrix.write_text("user_id,video_id,extra,video_id\n1,2,3,2\n")
    with pytest.raises(FeedlabInputError, match=r"missing column\(s\) watch_ratio in the header"):
        v.check_header(matrix, ["user_id", "video_id", "watch_ratio"])
    with pytest.raises(FeedlabInputError, match=r"unexpected column\(s\) 'extra' in the header"):
        v.check_header(matrix, ["user_id", "video_id"])
    with pytest.raises(FeedlabInputError, match=r"column\(s\) video_id appear more than once"):
        v.check_header(matrix, ["user_id", "video_id"], optional=["extra"])


def test_row_checks_report_the_first_bad_line_and_the_count(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("user_id,rating\n1,4\n\n2,x\n3,9\n4,y\n")
    src = f"read_csv({v.sql_str(path)}, header = true, all_varchar = true)"
    con = duckdb.connect()
    not_number = v.RowCheck(f"not {v.sql_is_num('rating')}", lambda f: not v.py_is_num(f["rating"]),
                            lambda f: f"rating {f['rating']!r} is not a number")
    with pytest.raises(FeedlabInputError, match=r"ratings\.csv: rating 'x' is not a number on line 4 "
                                                r"\(2 bad lines in all\)"):
        v.run_row_checks(con, path, src, [not_number], ",", header=True)
    path.write_text("user_id,rating\n1,4\n2,5\n")
    assert v.run_row_checks(con, path, src, [not_number], ",", header=True) == 2
    path.write_text("user_id,rating\n")
    with pytest.raises(FeedlabInputError, match="has a header but no data rows"):
        v.run_row_checks(con, path, src, [not_number], ",", header=True)


def test_duplicates_name_both_lines_with_exact_keys(tmp_path: Path) -> None:
    # 2^53 and 2^53 + 1: two ids, one double (read through a double they would be reported as a duplicate)
    path = tmp_path / "items.csv"
    path.write_text("item_id\n9007199254740992\n9007199254740993\n7\n7.0\n")
    src = f"read_csv({v.sql_str(path)}, header = true, all_varchar = true)"
    with pytest.raises(FeedlabInputError, match=r"duplicate item id on line 5 \(same as line 4: 7\)$"):
        v.check_no_duplicates(duckdb.connect(), path, src, [v.sql_as_int("item_id")],
                              lambda f: (v.as_int(f["item_id"]),), "item id", ",", header=True)


def test_duckdb_reader_errors_become_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3,4,5\n")
    columns = "{'a': 'VARCHAR', 'b': 'VARCHAR'}"
    query = (f"select count(*) from read_csv({v.sql_str(path)}, header = false, columns = {columns}, "
             "auto_detect = false)")
    with pytest.raises(FeedlabInputError) as error:
        v.fetch_one(duckdb.connect(), path, query)
    assert str(error.value) == f"{path}: line 2 has 3 fields, expected 2 (wrong delimiter, or extra/missing columns)"
