"""Checks shared by the file loaders: every failure becomes one short `FeedlabInputError` naming the file.

Detection runs in DuckDB (one aggregate scan per check group, fast on the 12.5 M-row KuaiRec big matrix); only
when something is wrong is the file re-read line by line in Python to name the first offending line. Line numbers
are physical lines of the file, 1-based, counting the header line when the file has one (what an editor shows).
"""
from __future__ import annotations

import csv
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence, TextIO

import duckdb

from feedlab.errors import FeedlabInputError

_DELIM_NAMES = {"\t": "tab", ",": "comma", "|": "pipe ('|')", ";": "semicolon"}


def delim_name(delim: str) -> str:
    """Human name of a delimiter, for messages."""
    return _DELIM_NAMES.get(delim, repr(delim))


def sql_str(value: str | Path) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A double-quoted SQL identifier (the KuaiRec files have columns called time, date and timestamp)."""
    return '"' + name.replace('"', '""') + '"'


def require_folder(path: str | Path | None, var_name: str, dataset: str) -> Path:
    """The data folder named by a dbt var, or an error saying how to set it."""
    if path is None or str(path).strip() == "":
        raise FeedlabInputError(
            f"var '{var_name}' is empty: pass the folder holding the {dataset} files, e.g. make build "
            f"DATASET={dataset.lower()} VARS='{{{var_name}: /path/to/folder}}'"
        )
    folder = Path(str(path).strip()).expanduser()
    if not folder.exists():
        raise FeedlabInputError(f"{folder}: folder not found (var '{var_name}')")
    if not folder.is_dir():
        raise FeedlabInputError(f"{folder}: is not a folder (var '{var_name}')")
    return folder.resolve()


def require_file(folder: Path, name: str, encoding: str = "utf-8") -> Path:
    """A data file that must exist and hold at least one non-blank line."""
    path = folder / name
    if path.is_dir():
        raise FeedlabInputError(f"{path}: is a folder, expected a file")
    if not path.is_file():
        raise FeedlabInputError(f"{path}: file not found")
    if _first_nonblank_line(path, encoding) is None:
        raise FeedlabInputError(f"{path}: file is empty")
    return path


def optional_file(folder: Path, name: str, encoding: str = "utf-8") -> Path | None:
    """A data file that may be absent; if present it must not be empty."""
    if not (folder / name).exists():
        return None
    return require_file(folder, name, encoding)


def open_text(path: Path, encoding: str = "utf-8") -> TextIO:
    """`path` opened for reading as the loaders' DuckDB reader sees it: undecodable bytes replaced, line endings
    kept, and a UTF-8 byte order mark (Excel writes one) skipped, as DuckDB skips it."""
    return path.open("r", encoding="utf-8-sig" if encoding.lower() == "utf-8" else encoding, errors="replace",
                     newline="")


def _first_nonblank_line(path: Path, encoding: str) -> tuple[int, str] | None:
    try:
        with open_text(path, encoding) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    return number, line.rstrip("\r\n")
    except OSError as error:
        raise FeedlabInputError(f"{path}: cannot be read ({error.strerror})") from None
    return None


def _other_delimiter(line: str, expected: str) -> str | None:
    for candidate in ("\t", ",", "|", ";"):
        if candidate != expected and candidate in line:
            return candidate
    return None


def check_field_count(path: Path, delim: str, n_fields: int, encoding: str = "utf-8") -> None:
    """A headerless file: its first line must split into `n_fields` fields on `delim`."""
    found = _first_nonblank_line(path, encoding)
    assert found is not None  # require_file ran first
    number, line = found
    fields = line.split(delim)
    if len(fields) == n_fields:
        return
    other = _other_delimiter(line, delim)
    if len(fields) == 1 and other is not None:
        raise FeedlabInputError(
            f"{path}: wrong delimiter: expected {delim_name(delim)}-separated fields, line {number} looks "
            f"{delim_name(other)}-separated"
        )
    raise FeedlabInputError(
        f"{path}: expected {n_fields} {delim_name(delim)}-separated fields, line {number} has {len(fields)}"
    )


def check_header(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    allow_extra: bool = False,
) -> list[str]:
    """A comma-separated file with a header row: required columns present, no unexpected ones. Returns the header."""
    found = _first_nonblank_line(path, "utf-8")
    assert found is not None
    number, line = found
    header = [name.strip() for name in next(csv.reader([line]))]
    if len(header) == 1 and (other := _other_delimiter(line, ",")) is not None:
        raise FeedlabInputError(
            f"{path}: wrong delimiter: expected comma-separated columns, the header (line {number}) looks "
            f"{delim_name(other)}-separated"
        )
    missing = [name for name in required if name not in header]
    if missing:
        raise FeedlabInputError(
            f"{path}: missing column(s) {', '.join(missing)} in the header (found: {', '.join(header)})"
        )
    if not allow_extra:
        extra = [name for name in header if name not in required and name not in optional]
        if extra:
            raise FeedlabInputError(
                f"{path}: unexpected column(s) {', '.join(repr(n) for n in extra)} in the header "
                f"(expected: {', '.join(required)})"
            )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise FeedlabInputError(f"{path}: column(s) {', '.join(duplicated)} appear more than once in the header")
    return header


_LINE_RE = re.compile(r"CSV Error on Line: (\d+)")
_COLS_RE = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def translate_duckdb_error(path: Path, error: duckdb.Error) -> FeedlabInputError:
    """Turn a DuckDB CSV reader error (a long multi-line text) into one readable line."""
    text = str(error)
    line = _LINE_RE.search(text)
    cols = _COLS_RE.search(text)
    where = f"line {line.group(1)}" if line else "a line"
    if cols:
        return FeedlabInputError(
            f"{path}: {where} has {cols.group(2)} fields, expected {cols.group(1)} (wrong delimiter, or extra/"
            f"missing columns)"
        )
    if "unicode" in text.lower() or "utf-8" in text.lower() or "encoding" in text.lower():
        return FeedlabInputError(f"{path}: {where} cannot be decoded (wrong file encoding)")
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return FeedlabInputError(f"{path}: cannot be read as CSV at {where}: {first[:200]}")


def fetch_one(con: duckdb.DuckDBPyConnection, path: Path, query: str) -> tuple:
    """Run a query over `path`; any DuckDB reader error becomes a FeedlabInputError naming the file."""
    try:
        row = con.sql(query).fetchone()
    except duckdb.Error as error:
        raise translate_duckdb_error(path, error) from None
    assert row is not None
    return row


def iter_rows(
    path: Path, delim: str, encoding: str = "utf-8", header: bool = False, quoted: bool = False
) -> Iterator[tuple[int, dict[str, str] | list[str]]]:
    """(line number, fields) for every non-empty data line, as the loaders' DuckDB reader sees them: it skips empty
    lines only (a line of delimiters is a row of nulls to it; a line of spaces has too few fields).

    With a header, fields is a dict keyed by column name; quoted=True parses CSV quoting (KuaiRec's "[27, 9]").
    """
    with open_text(path, encoding) as handle:
        if quoted:
            reader = csv.reader(handle, delimiter=delim)
            names: list[str] | None = None
            start = reader.line_num
            for fields in reader:
                number = start + 1
                start = reader.line_num
                if not fields:
                    continue
                if header and names is None:
                    names = [f.strip() for f in fields]
                    continue
                yield number, (dict(zip(names, fields)) if names is not None else fields)
        else:
            names = None
            for number, line in enumerate(handle, start=1):
                if not line.rstrip("\r\n"):
                    continue
                fields = line.rstrip("\r\n").split(delim)
                if header and names is None:
                    names = [f.strip() for f in fields]
                    continue
                yield number, (dict(zip(names, fields)) if names is not None else fields)


def first_line_where(
    path: Path,
    predicate: Callable[[dict[str, str] | list[str]], bool],
    delim: str,
    encoding: str = "utf-8",
    header: bool = False,
    quoted: bool = False,
) -> tuple[int, dict[str, str] | list[str]] | None:
    """The first data line (number, fields) for which `predicate` holds."""
    for number, fields in iter_rows(path, delim, encoding, header, quoted):
        if predicate(fields):
            return number, fields
    return None


def first_duplicate(
    path: Path,
    key: Callable[[dict[str, str] | list[str]], tuple | None],
    delim: str,
    encoding: str = "utf-8",
    header: bool = False,
    quoted: bool = False,
) -> tuple[int, int, tuple] | None:
    """(line, line of its first occurrence, key) of the first line whose key appeared before; None keys are skipped."""
    seen: dict[tuple, int] = {}
    for number, fields in iter_rows(path, delim, encoding, header, quoted):
        k = key(fields)
        if k is None:
            continue
        if k in seen:
            return number, seen[k], k
        seen[k] = number
    return None


#: An integer written in plain digits (ASCII only, as DuckDB reads it), with the blanks DuckDB's cast ignores.
_PLAIN_INT = r"[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*"
_INT64 = (-(2**63), 2**63 - 1)
#: Beyond 2^53 a double no longer holds every integer: an id written as 9007199254740993.0 is refused, not rounded.
_EXACT_DOUBLE_INT = 2**53


#: The years a data set's event may fall in: 1970 up to (not including) 2100, whether written as a date, a time or
#: Unix seconds. A time in milliseconds (1.6e12 for 2020) or a negative one is refused instead of landing in the
#: year 52489 or 1969, a two-digit year instead of landing in the year 20.
YEAR_RANGE = (1970, 2100)
#: YEAR_RANGE as Unix seconds (UTC): (0, 4_102_444_800).
UNIX_SECONDS_RANGE = tuple(int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()) for year in YEAR_RANGE)
#: How the messages say YEAR_RANGE.
YEAR_RANGE_TEXT = f"between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}"


def unix_seconds_check(value_sql: str, value_py: Callable[[dict[str, str] | list[str]], float | None],
                       text: Callable[[dict[str, str] | list[str]], str], label: str) -> RowCheck:
    """A RowCheck that a (numeric, already checked) Unix time lies in UNIX_SECONDS_RANGE. `value_sql` is the SQL
    number (null when empty), `value_py` its Python twin, `text` the field as written."""
    low, high = UNIX_SECONDS_RANGE

    def bad(fields: dict[str, str] | list[str]) -> bool:
        value = value_py(fields)
        return value is not None and not low <= value < high

    return RowCheck(
        f"{value_sql} is not null and not ({value_sql} >= {low} and {value_sql} < {high})",
        bad,
        lambda f: f"{label} {text(f).strip()} is not a time in Unix seconds {YEAR_RANGE_TEXT} "
                  f"(milliseconds? a negative time?)",
    )


def as_int(text: str) -> int | None:
    """The integer in `text`, or None: plain digits within bigint, or a number written otherwise (12.0, 1e3) whose
    value is an integer of magnitude below 2^53. Python twin of `sql_as_int`."""
    if re.fullmatch(_PLAIN_INT, text):
        if len(text.strip().lstrip("+-").lstrip("0")) > 19:  # beyond bigint; int() refuses 4,300+ digits anyway
            return None
        value = int(text)
        return value if _INT64[0] <= value <= _INT64[1] else None
    number = to_float(text)
    if number is None or not abs(number) < _EXACT_DOUBLE_INT or number != int(number):
        return None
    return int(number)


def is_int(text: str) -> bool:
    """Whether `as_int` reads an integer in `text` (Python twin of `sql_is_int`)."""
    return as_int(text) is not None


def to_float(text: str) -> float | None:
    """float(text), or None when it is not a number as DuckDB reads one (Python's float also takes non-ASCII
    digits, which DuckDB does not)."""
    if not text.isascii():
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def sql_as_int(expr: str) -> str:
    """SQL: `expr` (varchar) as bigint when it holds an integer (see `as_int`), else null. Plain digits are cast
    exactly; other notations go through double, only below 2^53."""
    num = f"try_cast(trim({expr}) as double)"
    return (
        f"(case when regexp_full_match({expr}, '{_PLAIN_INT}') then try_cast({expr} as bigint) "
        f"when abs({num}) < {_EXACT_DOUBLE_INT} and {num} = floor({num}) then cast({num} as bigint) end)"
    )


def sql_is_int(expr: str) -> str:
    """SQL: `expr` (varchar) holds an integer (`sql_as_int` is not null). Null/empty is not an integer."""
    return f"({sql_as_int(expr)} is not null)"


def sql_is_num(expr: str) -> str:
    """SQL: `expr` (varchar) holds a finite number. Null/empty/NaN/inf are not."""
    return f"coalesce(isfinite(try_cast(trim({expr}) as double)), false)"


def sql_as_num(expr: str) -> str:
    """SQL: a varchar already checked by `sql_is_num`, as double (null stays null)."""
    return f"try_cast(trim({expr}) as double)"


def py_is_num(text: str | None) -> bool:
    """Python twin of `sql_is_num`."""
    value = to_float(text or "")
    return value is not None and value == value and value not in (float("inf"), float("-inf"))


class RowCheck:
    """One per-row rule: `bad_sql` (a SQL condition over the varchar columns) flags a bad row in DuckDB,
    `bad_row` (the same rule in Python over the parsed fields) finds the first bad line for the message,
    `describe(fields)` says what is wrong on that line."""

    def __init__(
        self,
        bad_sql: str,
        bad_row: Callable[[dict[str, str] | list[str]], bool],
        describe: Callable[[dict[str, str] | list[str]], str],
    ) -> None:
        self.bad_sql = bad_sql
        self.bad_row = bad_row
        self.describe = describe


def run_row_checks(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    from_sql: str,
    checks: Sequence[RowCheck],
    delim: str,
    encoding: str = "utf-8",
    header: bool = False,
    quoted: bool = False,
) -> int:
    """Run every check in one scan; raise for the first failing check (in list order) at its first bad line.

    Returns the number of data rows. A file whose header is its only line is reported as empty.
    """
    counts = ", ".join(f"count(*) filter (where {c.bad_sql})" for c in checks)
    row = fetch_one(con, path, f"select count(*){', ' + counts if counts else ''} from {from_sql}")
    n_rows, bad_counts = row[0], row[1:]
    if n_rows == 0:
        raise FeedlabInputError(f"{path}: file has a header but no data rows" if header else f"{path}: file is empty")
    for check, n_bad in zip(checks, bad_counts):
        if n_bad:
            more = f" ({n_bad:,} bad lines in all)" if n_bad > 1 else ""
            hit = first_line_where(path, check.bad_row, delim, encoding, header, quoted)
            if hit:
                raise FeedlabInputError(f"{path}: {check.describe(hit[1])} on line {hit[0]}{more}")
            # The Python twin reads the row otherwise than DuckDB (a case nobody foresaw): name the row DuckDB
            # refused by what it holds, since DuckDB's reader has no line numbers.
            fields = _first_row_where(con, path, from_sql, check.bad_sql, header)
            raise FeedlabInputError(f"{path}: {check.describe(fields)} on the line that reads "
                                    f"{_as_line(fields, delim)!r}{more}")
    return int(n_rows)


def _first_row_where(con: duckdb.DuckDBPyConnection, path: Path, from_sql: str, where_sql: str,
                     header: bool) -> dict[str, str] | list[str]:
    """The first row DuckDB reads from `from_sql` with `where_sql` true, its nulls as empty fields, shaped as
    `iter_rows` yields it."""
    try:
        relation = con.sql(f"select * from {from_sql} where {where_sql} limit 1")
        values = ["" if v is None else str(v) for v in relation.fetchone()]
    except duckdb.Error as error:
        raise translate_duckdb_error(path, error) from None
    return dict(zip(relation.columns, values)) if header else values


def _as_line(fields: dict[str, str] | list[str], delim: str) -> str:
    return delim.join(fields.values() if isinstance(fields, dict) else fields)


def check_no_duplicates(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    from_sql: str,
    key_sql: Sequence[str],
    key_py: Callable[[dict[str, str] | list[str]], tuple | None],
    what: str,
    delim: str,
    encoding: str = "utf-8",
    header: bool = False,
    quoted: bool = False,
    where_sql: str = "true",
) -> None:
    """Raise naming the first line that repeats an earlier line's key (`what` names the key, e.g. 'event')."""
    keys = ", ".join(key_sql)
    (n_dup,) = fetch_one(
        con,
        path,
        f"select count(*) from (select {keys} from {from_sql} where {where_sql} group by {keys} having count(*) > 1)",
    )
    if n_dup:
        hit = first_duplicate(path, key_py, delim, encoding, header, quoted)
        if hit is None:
            raise FeedlabInputError(f"{path}: {n_dup:,} duplicated {what}(s)")
        line, first, key = hit
        more = f" ({n_dup:,} duplicated keys in all)" if n_dup > 1 else ""
        raise FeedlabInputError(
            f"{path}: duplicate {what} on line {line} (same as line {first}: {', '.join(map(str, key))}){more}"
        )
