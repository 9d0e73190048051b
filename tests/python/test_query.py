"""feedlab.query: ad-hoc SQL on a warehouse file, read-only, errors in one line."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from feedlab import query


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "synthetic.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table int_split as select * from (values ('train', 1), ('train', 2), ('test', 3)) t(split, id)")
    con.close()
    return path


def test_prints_the_result_as_a_table(warehouse: Path, capfd) -> None:
    sql = "select split, count(*) as n from int_split group by 1 order by 1"
    assert query.main(["--warehouse", str(warehouse), sql]) == 0
    out = capfd.readouterr().out
    rows = [line.split("│")[1:3] for line in out.splitlines() if "train" in line or "test" in line]
    assert [[cell.strip() for cell in row] for row in rows] == [["test", "1"], ["train", "2"]]


def test_reads_a_query_file_and_never_writes(warehouse: Path, tmp_path: Path, capfd) -> None:
    sql = tmp_path / "analysis.sql"
    sql.write_text("select max(id) as highest from int_split")
    query.main(["--warehouse", str(warehouse), "--file", str(sql)])
    assert "highest" in capfd.readouterr().out
    with pytest.raises(SystemExit, match=r"^feedlab.query: InvalidInputException: .*read-only"):
        query.main(["--warehouse", str(warehouse), "drop table int_split"])
    assert duckdb.connect(str(warehouse), read_only=True).sql("select count(*) from int_split").fetchone() == (3,)


@pytest.mark.parametrize("args, message", [
    (["select nope from int_split"], r'^feedlab.query: BinderException: .*"nope" not found'),
    ([], "give either a SQL string or --file"),
    (["--file", "/no/such.sql"], "cannot read /no/such.sql"),
])
def test_bad_input_is_one_line(warehouse: Path, args: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message) as stopped:
        query.main(["--warehouse", str(warehouse), *args])
    assert "\n" not in str(stopped.value)
