"""Fixtures and file writers for the source-loader tests: small MovieLens- and KuaiRec-shaped folders written by the
tests themselves (no copy of KuaiRec exists here; the real MovieLens-100K copy is conftest's ml100k_dir). Deliberately not a conftest.py: tests/python/ already has one that other tests import as `conftest`, and a
second conftest module in this folder would shadow it. Test modules import the fixtures from here."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

MATRIX_HEADER = "user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio"

# (user, video, play_ms, video_ms, time, date, timestamp, watch_ratio) with KuaiRec's documented quirks:
# row 3 has empty time/date/timestamp, row 4 has only a date, row 5 watch_ratio 0, row 6 video_duration 0.
SMALL_ROWS = [
    (0, 3650, 13838, 10867, "2020-07-05 00:08:23.438", "20200705", "1593878903.438", "1.273397"),
    (0, 9598, 13665, 10984, "2020-07-05 00:13:41.297", "20200705", "1593879221.297", "1.244082"),
    (1, 3650, 851, 10867, "", "", "", "0.078311"),
    (1, 9598, 25000, 10984, "", "20200706.0", "", "2.276037"),
    (2, 3650, 0, 10867, "2020-07-06 09:40:00", "20200706", "1593999600.0", "0"),
    (2, 7777, 5000, 0, "2020-07-06 11:00:00.000", "20200706", "1594004400.0", ""),
]
BIG_ROWS = [
    (0, 3650, 13838, 10867, "2020-07-05 00:08:23.438", "20200705", "1593878903.438", "1.273397"),  # also in small
    (3, 3650, 40000, 10867, "2020-07-04 09:00:00.000", "20200704", "1593824400.0", "3.680868"),
    (3, 1234, 6000, 12000, "2020-07-04 09:05:00.000", "20200704", "1593824700.0", "0.5"),
]
CATEGORIES = [(3650, "[27, 9]"), (9598, "[5]"), (7777, "[0, 30, 12]"), (1234, "[11]")]
DAILY = [  # video_id, date, author_id, video_type
    (3650, 20200704, 100, "NORMAL"),
    (3650, 20200705, 100, "NORMAL"),
    (9598, 20200705, 101, "NORMAL"),
    (7777, 20200705, 100, "AD"),
]


def _matrix_text(rows) -> str:
    return MATRIX_HEADER + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def write_kuairec(folder: Path, big: bool = False, daily: bool = False) -> Path:
    """A KuaiRec-shaped folder: small_matrix.csv, item_categories.csv, optionally big_matrix.csv and
    item_daily_features.csv. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small_matrix.csv").write_text(_matrix_text(SMALL_ROWS))
    (folder / "item_categories.csv").write_text(
        "video_id,feat\n" + "".join(f'{v},"{feat}"\n' for v, feat in CATEGORIES)
    )
    if big:
        (folder / "big_matrix.csv").write_text(_matrix_text(BIG_ROWS))
    if daily:
        (folder / "item_daily_features.csv").write_text(
            "video_id,date,author_id,video_type,play_cnt\n"
            + "".join(f"{v},{d},{a},{t},10\n" for v, d, a, t in DAILY)
        )
    return folder


def write_movielens(folder: Path) -> Path:
    """A tiny MovieLens-shaped folder (3 movies, 2 users, 4 ratings) in the real files' formats."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n2\t3\t1\t888551000\n")
    flags = lambda *on: "|".join("1" if i in on else "0" for i in range(19))
    (folder / "u.item").write_bytes(
        (
            f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|{flags(3, 4, 5)}\n"
            f"2|Misérables, Les (1995)|01-Jan-1995||http://x|{flags(8, 12)}\n"
            f"3|unknown||||{flags(0)}\n"
        ).encode("latin-1")
    )
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|V3N4P\n")
    return folder


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def kuairec_dir(tmp_path: Path) -> Path:
    return write_kuairec(tmp_path / "kuairec")


@pytest.fixture
def ml_dir(tmp_path: Path) -> Path:
    return write_movielens(tmp_path / "ml")
