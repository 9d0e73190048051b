"""MovieLens-100K loaders: `u.data`, `u.item`, `u.user` read with DuckDB's CSV reader from the folder the user names.

Each loader validates its file (see `feedlab.sources.validation`) and returns a lazy `duckdb.DuckDBPyRelation` over
the live connection, typed and with readable column names. Bad input raises `FeedlabInputError` with one line naming
the file, the problem and (for row-level problems) the first bad line.

Formats (see the data set's PROVENANCE.md): all three files have no header; u.data is tab-separated
(user_id, item_id, rating 1-5, unix seconds); u.item is pipe-separated, ISO-8859-1, 24 fields (movie id, title,
release date dd-Mon-yyyy, video release date, IMDb URL, 19 genre flags in u.genre order); u.user is pipe-separated
(user_id, age, gender, occupation, zip code; zip codes stay strings, some are not numeric).
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from feedlab.errors import FeedlabInputError
from feedlab.sources.validation import (
    RowCheck,
    as_int,
    check_field_count,
    check_no_duplicates,
    first_line_where,
    ident,
    is_int,
    require_file,
    require_folder,
    run_row_checks,
    sql_as_int,
    sql_is_int,
    sql_str,
    unix_seconds_check,
)

VAR_NAME = "movielens_path"

#: u.genre, in file order: the genre flag at position i of u.item is genre i (topic_id = i).
GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)

RATING_COLUMNS = ("user_id", "item_id", "rating", "unix_timestamp")
ITEM_COLUMNS = ("item_id", "title", "release_date", "video_release_date", "imdb_url") + tuple(
    f"genre_{i:02d}" for i in range(len(GENRES))
)
USER_COLUMNS = ("user_id", "age", "gender", "occupation", "zip_code")

_ENCODING = {"u.data": "utf-8", "u.item": "latin-1", "u.user": "latin-1"}
_DELIM = {"u.data": "\t", "u.item": "|", "u.user": "|"}


def _read_csv_sql(path: Path, columns: tuple[str, ...], delim: str, encoding: str) -> str:
    """read_csv(...) over a headerless file, every column varchar, no quoting (titles may hold '"')."""
    cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in columns) + "}"
    duck_encoding = "latin-1" if encoding == "latin-1" else "utf-8"
    return (
        f"read_csv({sql_str(path)}, delim={sql_str(delim)}, header=false, columns={cols}, auto_detect=false, "
        f"quote='', escape='', encoding={sql_str(duck_encoding)})"
    )


_UTF8_BOM = b"\xef\xbb\xbf"


def _open(folder: str | Path | None, name: str, columns: tuple[str, ...]) -> tuple[Path, str]:
    root = require_folder(folder, VAR_NAME, "MovieLens")
    path = require_file(root, name, _ENCODING[name])
    if _ENCODING[name] == "latin-1":
        with path.open("rb") as handle:
            # in a latin-1 file the mark would be three letters of the first id: the file was re-saved as UTF-8
            if handle.read(len(_UTF8_BOM)) == _UTF8_BOM:
                raise FeedlabInputError(f"{path}: starts with a UTF-8 byte order mark, but MovieLens writes {name} "
                                        "in latin-1 (ISO-8859-1): use the original file or save it as latin-1")
    check_field_count(path, _DELIM[name], len(columns), _ENCODING[name])
    return path, _read_csv_sql(path, columns, _DELIM[name], _ENCODING[name])


def _int_check(column: str, position: int, label: str = "") -> RowCheck:
    return RowCheck(
        f"not {sql_is_int(ident(column))}",
        lambda f: not is_int(f[position]),
        lambda f: f"{label or column} {f[position]!r} is not a whole number",
    )


def load_ratings(con: duckdb.DuckDBPyConnection, folder: str | Path | None) -> duckdb.DuckDBPyRelation:
    """u.data -> (user_id bigint, item_id bigint, rating integer, unix_timestamp bigint, rated_at timestamp UTC).

    Rules: ids and timestamps are integers, timestamps Unix seconds between 1970 and 2100, ratings integers in
    1..5, no two lines with the same (user_id, item_id, unix_timestamp), every user in u.user and every movie in
    u.item.
    """
    path, src = _open(folder, "u.data", RATING_COLUMNS)
    delim = _DELIM["u.data"]
    rating_ok = f"{sql_as_int('rating')} between 1 and 5"
    checks = [
        _int_check("user_id", 0),
        _int_check("item_id", 1),
        _int_check("rating", 2),
        RowCheck(
            f"{sql_is_int('rating')} and not ({rating_ok})",
            lambda f: is_int(f[2]) and not 1 <= float(f[2]) <= 5,
            lambda f: f"rating {f[2].strip()} outside 1..5",
        ),
        _int_check("unix_timestamp", 3, "unix timestamp"),
        unix_seconds_check(sql_as_int("unix_timestamp"), lambda f: as_int(f[3]), lambda f: f[3], "unix timestamp"),
    ]
    run_row_checks(con, path, src, checks, delim)
    check_no_duplicates(
        con, path, src,
        [sql_as_int(c) for c in ("user_id", "item_id", "unix_timestamp")],
        lambda f: (as_int(f[0]), as_int(f[1]), as_int(f[3])),
        "event (user_id, item_id, timestamp)", delim,
    )
    for column, position, listing, columns in (("user_id", 0, "u.user", USER_COLUMNS),
                                                ("item_id", 1, "u.item", ITEM_COLUMNS)):
        _check_listed(con, folder, path, src, column, position, listing, columns)
    return con.sql(
        f"""
        select
            {sql_as_int('user_id')} as user_id,
            {sql_as_int('item_id')} as item_id,
            cast({sql_as_int('rating')} as integer) as rating,
            {sql_as_int('unix_timestamp')} as unix_timestamp,
            make_timestamp({sql_as_int('unix_timestamp')} * 1000000) as rated_at
        from {src}
        """
    )


def _check_listed(con: duckdb.DuckDBPyConnection, folder: str | Path | None, path: Path, src: str, column: str,
                  position: int, listing: str, listing_columns: tuple[str, ...]) -> None:
    """Every u.data value of `column` is an id of the file `listing` (u.user or u.item), whose own rules its loader
    checks; the first unlisted one is named with its line (one SQL scan when all are listed)."""
    _, listed_src = _open(folder, listing, listing_columns)
    listed = f"select {sql_as_int(column)} as id from {listed_src} where {sql_is_int(column)}"
    (unlisted,) = con.sql(f"select count(*) from {src} where {sql_as_int(column)} not in ({listed})").fetchone()
    if unlisted == 0:
        return
    ids = {row[0] for row in con.sql(listed).fetchall()}
    hit = first_line_where(path, lambda f: as_int(f[position]) not in ids, _DELIM["u.data"])
    what = f"{column} {hit[1][position].strip()} is not listed in {listing} on line {hit[0]}" if hit else (
        f"{column}s not listed in {listing}")
    raise FeedlabInputError(f"{path}: {what} ({unlisted} line{'s' if unlisted > 1 else ''} in all)")


#: dd-Mon-yyyy with a four-digit year: DuckDB's and Python's %Y also take '01-Jan-95' as the year 95.
_DATE_RE = r"\s*\d{1,2}-[A-Za-z]{3}-\d{4}\s*"


def _date_ok_sql(column: str) -> str:
    return (f"({column} is null or trim({column}) = '' or (regexp_full_match({column}, '{_DATE_RE}') "
            f"and try_strptime(trim({column}), '%d-%b-%Y') is not null))")


def _date_ok_py(text: str) -> bool:
    from datetime import datetime

    if not text.strip():
        return True
    if not re.fullmatch(_DATE_RE, text):
        return False
    try:
        datetime.strptime(text.strip(), "%d-%b-%Y")
    except ValueError:
        return False
    return True


def load_items(con: duckdb.DuckDBPyConnection, folder: str | Path | None) -> duckdb.DuckDBPyRelation:
    """u.item -> (item_id bigint, title, release_date date, release_year integer, imdb_url, topic_id integer,
    topic_name, genre_names).

    topic_id is the index (u.genre order) of the first genre flag set; a movie with no flag set gets 0 ("unknown").
    genre_names lists every set genre, '|'-separated. release_year is null when the date is empty (item 267).
    Rules: item ids are unique integers, flags are 0 or 1, dates are empty or dd-Mon-yyyy.
    """
    path, src = _open(folder, "u.item", ITEM_COLUMNS)
    delim, encoding = _DELIM["u.item"], _ENCODING["u.item"]
    flags = ITEM_COLUMNS[5:]
    flag_bad_sql = " or ".join(f"coalesce(trim({c}), '') not in ('0', '1')" for c in flags)

    def first_bad_flag(f: list[str]) -> str:
        for i, value in enumerate(f[5:]):
            if value.strip() not in ("0", "1"):
                return f"genre flag {i} ({GENRES[i]}) is {value!r}, expected 0 or 1"
        return "bad genre flag"

    checks = [
        _int_check("item_id", 0, "movie id"),
        RowCheck(
            f"not {_date_ok_sql('release_date')}",
            lambda f: not _date_ok_py(f[2]),
            lambda f: f"release date {f[2]!r} is not dd-Mon-yyyy",
        ),
        RowCheck(flag_bad_sql, lambda f: any(v.strip() not in ("0", "1") for v in f[5:]), first_bad_flag),
    ]
    run_row_checks(con, path, src, checks, delim, encoding)
    check_no_duplicates(
        con, path, src, [sql_as_int("item_id")], lambda f: (as_int(f[0]),), "movie id", delim, encoding
    )
    topic_case = " ".join(f"when trim({c}) = '1' then {i}" for i, c in enumerate(flags))
    names = ", ".join(f"case when trim({c}) = '1' then {sql_str(g)} end" for c, g in zip(flags, GENRES))
    name_case = " ".join(f"when {i} then {sql_str(g)}" for i, g in enumerate(GENRES))
    return con.sql(
        f"""
        with raw as (
            select
                {sql_as_int('item_id')} as item_id,
                title,
                cast(try_strptime(trim(release_date), '%d-%b-%Y') as date) as release_date,
                imdb_url,
                cast(case {topic_case} else 0 end as integer) as topic_id,
                concat_ws('|', {names}) as genre_names
            from {src}
        )
        select
            item_id,
            title,
            release_date,
            cast(year(release_date) as integer) as release_year,
            imdb_url,
            topic_id,
            case topic_id {name_case} end as topic_name,
            genre_names
        from raw
        """
    )


def load_users(con: duckdb.DuckDBPyConnection, folder: str | Path | None) -> duckdb.DuckDBPyRelation:
    """u.user -> (user_id bigint, age integer, gender, occupation, zip_code varchar).

    Rules: user ids are unique integers, ages are integers in 0..150.
    """
    path, src = _open(folder, "u.user", USER_COLUMNS)
    delim, encoding = _DELIM["u.user"], _ENCODING["u.user"]
    checks = [
        _int_check("user_id", 0),
        _int_check("age", 1),
        RowCheck(
            f"{sql_is_int('age')} and {sql_as_int('age')} not between 0 and 150",
            lambda f: is_int(f[1]) and not 0 <= float(f[1]) <= 150,
            lambda f: f"age {f[1].strip()} outside 0..150",
        ),
    ]
    run_row_checks(con, path, src, checks, delim, encoding)
    check_no_duplicates(
        con, path, src, [sql_as_int("user_id")], lambda f: (as_int(f[0]),), "user id", delim, encoding
    )
    return con.sql(
        f"""
        select
            {sql_as_int('user_id')} as user_id,
            cast({sql_as_int('age')} as integer) as age,
            trim(gender) as gender,
            trim(occupation) as occupation,
            trim(zip_code) as zip_code
        from {src}
        """
    )
