"""KuaiRec loaders: `small_matrix.csv` (+ optional `big_matrix.csv`), `item_categories.csv` and the optional
`item_daily_features.csv`, read with DuckDB's CSV reader from the folder the user names.

Each loader validates its files (see `feedlab.sources.validation`) and returns a lazy `duckdb.DuckDBPyRelation`.
Bad input raises `FeedlabInputError` with one line naming the file, the problem and the first bad line.

Decisions on KuaiRec's documented quirks (also in python_models/sources/kuairec/_kuairec__models.yml):

* Event time: `timestamp` (Unix seconds) when present; else `time` (Beijing local time, UTC+8, converted to UTC);
  else `date` (yyyymmdd, midnight Beijing, converted to UTC). `event_time_source` says which one was used. A row
  with all three empty is kept in `kr_interactions` with `event_at` null and dropped by staging; the count is
  visible: a warn-severity `not_null` test on `kr_interactions.event_at` reports it on every `dbt build`.
  A non-empty but unparseable timestamp/time/date is an error.
* `watch_ratio` 0 is legal. `watch_ratio` is taken from the file (never recomputed). When `video_duration` is 0 the
  file's ratio cannot be meaningful: a finite value is kept, an empty / NaN / infinite one becomes null. For
  `video_duration` > 0 the ratio must be a finite number >= 0.
* Big matrix: when enabled, the interactions are the documented union of both files (`source_matrix` = 'small' or
  'big'); an event (user, video, timestamp) present in both files is kept once, from the small matrix.
* Duplicate events (same user, video and timestamp) inside one file are an error; rows with an empty timestamp
  are not compared (they have no event key).
* Ids (user_id, video_id, author_id) are integers >= 0: a negative one is an error, since negative creator ids are
  the stand-ins' below.
* `time` and `date` lie between 1970 and 2100, as `timestamp` does; `date` is a whole yyyymmdd (20200705.0 is fine,
  20200705.5 is an error).
* Creators: `author_id` from item_daily_features.csv (the author on the video's latest `date`; one row per video and
  date). A video without a known author (there is no daily file, the file does not mention it, or it appears only
  in the interactions) is its own stand-in creator with creator_id = -(video_id + 1), so a stand-in can never
  collide with a real author id; without the daily file creator fairness is per video.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import duckdb

from feedlab.errors import FeedlabInputError
from feedlab.sources.validation import (
    RowCheck,
    as_int,
    check_header,
    check_no_duplicates,
    ident,
    is_int,
    open_text,
    optional_file,
    py_is_num,
    require_file,
    require_folder,
    run_row_checks,
    sql_as_int,
    sql_as_num,
    sql_is_int,
    sql_is_num,
    sql_str,
    to_float,
    unix_seconds_check,
    YEAR_RANGE,
    YEAR_RANGE_TEXT,
)

VAR_NAME = "kuairec_path"
MATRIX_COLUMNS = ("user_id", "video_id", "play_duration", "video_duration", "time", "date", "timestamp", "watch_ratio")
CATEGORY_COLUMNS = ("video_id", "feat")
DAILY_REQUIRED = ("video_id", "author_id")
#: Beijing local time is UTC+8 (no daylight saving).
BEIJING_UTC_OFFSET_HOURS = 8
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
#: DuckDB's and Python's %Y both take fewer than four digits ('20-07-05' is year 20): the shape is checked first.
_TIME_RE = r"\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\s*"
_FEAT_RE = re.compile(r"^\s*\[\s*(\d+(\s*,\s*\d+)*)?\s*\]\s*$")
#: KuaiRec tags its videos with 31 tags, ids 0-30; a larger id is a corrupted or foreign file, and would otherwise
#: become a topic no other KuaiRec video has (or overflow the integer topic_id).
MAX_TAG_ID = 30


def parse_bool(value: Any, var_name: str) -> bool:
    """A dbt var rendered into config ('True', 'false', '1', ...) as a bool."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", "", "none"):
        return False
    raise FeedlabInputError(f"var '{var_name}' must be true or false, got {value!r}")


def _read_csv_sql(path: Path) -> str:
    """read_csv(...) over a comma-separated file with a header row, every column varchar. The column names come
    from the header line (read here), so DuckDB's sniffer never guesses and a row with a different number of
    fields is reported with its line number."""
    blank_lines_before_header, first = 0, ""
    with open_text(path) as handle:
        for line in handle:
            if line.strip():
                first = line
                break
            blank_lines_before_header += 1
    names = [name.strip() for name in next(csv.reader([first]))]
    cols = "{" + ", ".join(f"{sql_str(name)}: 'VARCHAR'" for name in names) + "}"
    # DuckDB would take a blank first line for the header and read the header as data
    return (
        f"read_csv({sql_str(path)}, delim=',', header=true, columns={cols}, auto_detect=false, "
        f"quote='\"', escape='\"', skip={blank_lines_before_header})"
    )


# --- helpers shared by the SQL rules and their Python twins (which find the first bad line) -------------------

def _empty_sql(col: str) -> str:
    return f"coalesce(trim({ident(col)}), '') = ''"


def _empty(text: str | None) -> bool:
    return text is None or text.strip() == ""


def _date_sql(col: str) -> str:
    """yyyymmdd as a timestamp, also written as a float (20200705.0, what pandas writes for a column with gaps);
    null unless it is a whole date of YEAR_RANGE."""
    num = f"try_cast(trim({ident(col)}) as double)"
    low, high = (year * 10_000 + 101 for year in YEAR_RANGE)
    return (
        f"(case when {num} = floor({num}) and {num} >= {low} and {num} < {high} "
        f"then try_strptime(cast(cast({num} as bigint) as varchar), '%Y%m%d') end)"
    )


def _date_ok(text: str) -> bool:
    from datetime import datetime

    value = to_float(text)
    if value is None or value != value or value in (float("inf"), float("-inf")) or value != int(value):
        return False
    if not YEAR_RANGE[0] * 10_000 + 101 <= value < YEAR_RANGE[1] * 10_000 + 101:
        return False
    try:
        datetime.strptime(str(int(value)), "%Y%m%d")
    except ValueError:
        return False
    return True


def _time_sql(col: str) -> str:
    """'yyyy-mm-dd hh:mm:ss[.fff]' as a timestamp; null unless it has that shape and a year of YEAR_RANGE."""
    c = ident(col)
    formats = "[" + ", ".join(sql_str(f) for f in TIME_FORMATS) + "]"
    low, high = YEAR_RANGE
    return (
        f"(case when regexp_full_match({c}, {sql_str(_TIME_RE)}) "
        f"and cast(left(trim({c}), 4) as integer) between {low} and {high - 1} "
        f"then try_strptime(trim({c}), {formats}) end)"
    )


def _time_ok(text: str) -> bool:
    from datetime import datetime

    if not re.fullmatch(_TIME_RE, text) or not YEAR_RANGE[0] <= int(text.strip()[:4]) < YEAR_RANGE[1]:
        return False
    for fmt in TIME_FORMATS:
        try:
            datetime.strptime(text.strip(), fmt)
            return True
        except ValueError:
            continue
    return False


def _date_check(allow_empty: bool) -> RowCheck:
    """The `date` column holds a date `_date_sql` reads (or is empty, when allowed)."""
    unless_empty_sql = f"not {_empty_sql('date')} and " if allow_empty else ""
    return RowCheck(
        f"{unless_empty_sql}{_date_sql('date')} is null",
        lambda f: not (allow_empty and _empty(f.get("date"))) and not _date_ok(f.get("date") or ""),
        lambda f: f"date {f.get('date')!r} is not a whole yyyymmdd {YEAR_RANGE_TEXT}",
    )


def _num(f: dict[str, str], col: str) -> float | None:
    return to_float(f.get(col) or "")


def _id_checks(*columns: str) -> list[RowCheck]:
    """Each column holds an integer >= 0 (negative creator ids are the stand-ins')."""
    checks: list[RowCheck] = []
    for col in columns:
        checks += [
            RowCheck(
                f"not {sql_is_int(ident(col))}",
                lambda f, col=col: not is_int(f.get(col) or ""),
                lambda f, col=col: f"non-numeric {col} {f.get(col)!r}",
            ),
            RowCheck(
                f"{sql_as_int(ident(col))} < 0",
                lambda f, col=col: (as_int(f.get(col) or "") or 0) < 0,
                lambda f, col=col: f"negative {col} {f.get(col).strip()}",
            ),
        ]
    return checks


def _matrix_checks() -> list[RowCheck]:
    checks = _id_checks("user_id", "video_id")
    for col in ("play_duration", "video_duration"):
        checks.append(
            RowCheck(
                f"not {sql_is_num(ident(col))}",
                lambda f, col=col: not py_is_num(f.get(col)),
                lambda f, col=col: (
                    f"{col} is empty" if _empty(f.get(col)) else f"{col} {f.get(col)!r} is not a finite number"
                ),
            )
        )
        checks.append(
            RowCheck(
                f"{sql_is_num(ident(col))} and {sql_as_num(ident(col))} < 0",
                lambda f, col=col: py_is_num(f.get(col)) and _num(f, col) < 0,
                lambda f, col=col: f"negative {col} {f.get(col).strip()}",
            )
        )
    checks += [
        RowCheck(
            f"not {_empty_sql('timestamp')} and not {sql_is_num(ident('timestamp'))}",
            lambda f: not _empty(f.get("timestamp")) and not py_is_num(f.get("timestamp")),
            lambda f: f"timestamp {f.get('timestamp')!r} is not a number of Unix seconds",
        ),
        unix_seconds_check(
            f"(case when {sql_is_num(ident('timestamp'))} then {sql_as_num(ident('timestamp'))} end)",
            lambda f: _num(f, "timestamp") if py_is_num(f.get("timestamp")) else None,
            lambda f: f.get("timestamp") or "", "timestamp",
        ),
        RowCheck(
            f"not {_empty_sql('time')} and {_time_sql('time')} is null",
            lambda f: not _empty(f.get("time")) and not _time_ok(f["time"]),
            lambda f: f"time {f.get('time')!r} is not 'yyyy-mm-dd hh:mm:ss[.fff]' {YEAR_RANGE_TEXT}",
        ),
        _date_check(allow_empty=True),
        # watch_ratio: garbage text is always an error; NaN/inf/empty only where video_duration > 0.
        RowCheck(
            f"not {_empty_sql('watch_ratio')} and try_cast(trim({ident('watch_ratio')}) as double) is null",
            lambda f: not _empty(f.get("watch_ratio")) and _num(f, "watch_ratio") is None,
            lambda f: f"watch_ratio {f.get('watch_ratio')!r} is not a number",
        ),
        RowCheck(
            f"{sql_as_num(ident('video_duration'))} > 0 and not {sql_is_num(ident('watch_ratio'))}",
            lambda f: (_num(f, "video_duration") or 0) > 0 and not py_is_num(f.get("watch_ratio")),
            lambda f: f"watch_ratio {f.get('watch_ratio', '')!r} is empty, NaN or infinite (video_duration > 0)",
        ),
        RowCheck(
            f"{sql_as_num(ident('watch_ratio'))} < 0",
            lambda f: (_num(f, "watch_ratio") or 0) < 0,
            lambda f: f"negative watch_ratio {f.get('watch_ratio').strip()}",
        ),
    ]
    return checks


def _event_key_py(f: dict[str, str]) -> tuple | None:
    if _empty(f.get("timestamp")):
        return None
    return (as_int(f["user_id"]), as_int(f["video_id"]), to_float(f["timestamp"]))


def _matrix_sql(path: Path, source: str) -> str:
    """Typed rows of one validated matrix file."""
    src = _read_csv_sql(path)
    ts = sql_as_num(ident("timestamp"))
    offset = f"interval {BEIJING_UTC_OFFSET_HOURS} hour"
    return f"""
        select
            {sql_as_int(ident('user_id'))} as user_id,
            {sql_as_int(ident('video_id'))} as video_id,
            {sql_as_num(ident('play_duration'))} as play_duration_ms,
            {sql_as_num(ident('video_duration'))} as video_duration_ms,
            case when isfinite({sql_as_num(ident('watch_ratio'))}) then {sql_as_num(ident('watch_ratio'))} end
                as watch_ratio,
            nullif(trim({ident('time')}), '') as time_local,
            cast(cast({sql_as_num(ident('date'))} as bigint) as integer) as date_local,
            {ts} as unix_timestamp,
            case
                when {ts} is not null then make_timestamp(cast(round({ts} * 1000000) as bigint))
                when {_time_sql('time')} is not null then {_time_sql('time')} - {offset}
                when {_date_sql('date')} is not null then {_date_sql('date')} - {offset}
            end as event_at,
            case
                when {ts} is not null then 'timestamp'
                when {_time_sql('time')} is not null then 'time'
                when {_date_sql('date')} is not null then 'date'
            end as event_time_source,
            {sql_str(source)} as source_matrix
        from {src}
    """


def _validated_matrix(con: duckdb.DuckDBPyConnection, path: Path, source: str) -> str:
    check_header(path, MATRIX_COLUMNS)
    src = _read_csv_sql(path)
    run_row_checks(con, path, src, _matrix_checks(), ",", header=True, quoted=True)
    check_no_duplicates(
        con, path, src,
        [sql_as_int(ident("user_id")), sql_as_int(ident("video_id")), sql_as_num(ident("timestamp"))],
        _event_key_py,
        "event (user_id, video_id, timestamp)", ",", header=True, quoted=True,
        where_sql=f"not {_empty_sql('timestamp')}",
    )
    return _matrix_sql(path, source)


def load_interactions(
    con: duckdb.DuckDBPyConnection, folder: str | Path | None, use_big_matrix: Any = False
) -> duckdb.DuckDBPyRelation:
    """small_matrix.csv (+ big_matrix.csv) -> one row per interaction:
    (user_id, video_id bigint, play_duration_ms, video_duration_ms, watch_ratio, unix_timestamp double,
    time_local varchar, date_local integer, event_at timestamp UTC (null when the row has no time at all),
    event_time_source, source_matrix varchar).
    """
    root = require_folder(folder, VAR_NAME, "KuaiRec")
    use_big = parse_bool(use_big_matrix, "kuairec_use_big_matrix")
    small = _validated_matrix(con, require_file(root, "small_matrix.csv"), "small")
    if not use_big:
        return con.sql(small)
    big = _validated_matrix(con, require_file(root, "big_matrix.csv"), "big")
    return con.sql(
        f"""
        with small as ({small}), big as ({big})
        select * from small
        union all
        select * from big
        where unix_timestamp is null
           or not exists (
                select 1 from small s
                where s.user_id = big.user_id and s.video_id = big.video_id and s.unix_timestamp = big.unix_timestamp
           )
        """
    )


def load_items(con: duckdb.DuckDBPyConnection, folder: str | Path | None) -> duckdb.DuckDBPyRelation:
    """item_categories.csv (+ item_daily_features.csv) -> one row per video:
    (video_id bigint, feat varchar (the tag list as written), topic_id integer (first tag; null for '[]'),
    n_tags integer, author_id bigint (null without item_daily_features.csv), creator_id bigint, creator_kind
    ('author' or 'video')).
    """
    root = require_folder(folder, VAR_NAME, "KuaiRec")
    path = require_file(root, "item_categories.csv")
    check_header(path, CATEGORY_COLUMNS)
    src = _read_csv_sql(path)
    feat_re = sql_str(_FEAT_RE.pattern)
    checks = _id_checks("video_id") + [
        RowCheck(
            f"not regexp_full_match(coalesce({ident('feat')}, ''), {feat_re})",
            lambda f: not _FEAT_RE.match(f.get("feat") or ""),
            lambda f: f"feat {f.get('feat')!r} is not a list of tag ids like \"[27, 9]\"",
        ),
        RowCheck(
            f"len(list_filter(regexp_extract_all(coalesce({ident('feat')}, ''), '\\d+'),"
            f" lambda tag: coalesce(try_cast(tag as integer) > {MAX_TAG_ID}, true))) > 0",
            lambda f: any(int(tag) > MAX_TAG_ID for tag in re.findall(r"\d+", f.get("feat") or "")),
            lambda f: f"feat {f.get('feat')!r} has a tag id above KuaiRec's {MAX_TAG_ID}",
        ),
    ]
    run_row_checks(con, path, src, checks, ",", header=True, quoted=True)
    check_no_duplicates(
        con, path, src, [sql_as_int(ident("video_id"))], lambda f: (as_int(f["video_id"]),),
        "video_id", ",", header=True, quoted=True,
    )
    categories = f"""
        select
            {sql_as_int(ident('video_id'))} as video_id,
            trim({ident('feat')}) as feat,
            cast(nullif(regexp_extract({ident('feat')}, '\\[\\s*(\\d+)', 1), '') as integer) as topic_id,
            cast(len(regexp_extract_all({ident('feat')}, '\\d+')) as integer) as n_tags
        from {src}
    """
    daily_path = optional_file(root, "item_daily_features.csv")
    if daily_path is None:
        return con.sql(
            f"""
            select *, cast(null as bigint) as author_id, -(video_id + 1) as creator_id, 'video' as creator_kind
            from ({categories})
            """
        )
    header = check_header(daily_path, DAILY_REQUIRED, allow_extra=True)
    daily_src = _read_csv_sql(daily_path)
    has_date = "date" in header
    daily_checks = _id_checks(*DAILY_REQUIRED) + ([_date_check(allow_empty=False)] if has_date else [])
    run_row_checks(con, daily_path, daily_src, daily_checks, ",", header=True, quoted=True)
    # one author per video and day, so "the author on the latest day" is one author whatever the row order
    check_no_duplicates(
        con, daily_path, daily_src,
        [sql_as_int(ident("video_id"))] + ([_date_sql("date")] if has_date else []),
        lambda f: (as_int(f["video_id"]),) + ((to_float(f["date"]),) if has_date else ()),
        "video_id and date" if has_date else "video_id", ",", header=True, quoted=True,
    )
    order = _date_sql("date") if has_date else "0"
    return con.sql(
        f"""
        with categories as ({categories}),
        authors as (
            select
                {sql_as_int(ident('video_id'))} as video_id,
                arg_max({sql_as_int(ident('author_id'))}, {order}) as author_id
            from {daily_src}
            group by 1
        )
        select
            c.*,
            a.author_id,
            coalesce(a.author_id, -(c.video_id + 1)) as creator_id,
            case when a.author_id is null then 'video' else 'author' end as creator_kind
        from categories c
        left join authors a on a.video_id = c.video_id
        """
    )
